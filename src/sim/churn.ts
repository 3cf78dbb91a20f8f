/**
 * How a lively world changes. Time moves in steps of 75 ms (one request at
 * Helix's 800 points a minute): the world takes every step that wall time
 * has passed, and a page request takes at least one more, so a client that
 * pages faster than the rate limit still sees the order move between pages.
 *
 * At churn 1, per simulated minute, each stream's viewer count moves about
 * once, and a stream lasts about four hours, new ones starting as fast as
 * old ones end. Churn scales all of it; 0 freezes the world.
 *
 * @module
 */

import { MAX_BROADCAST_MS } from "../helix/stream.ts";
import { addStream, endStream, reorder, type World } from "./world.ts";

/** Length of one step in milliseconds. */
export const STEP_MS = 75;
const STEPS_PER_MINUTE = 60_000 / STEP_MS;
/** Mean broadcast length at churn 1, in minutes. */
const MEAN_BROADCAST_MINUTES = 240;
/** Viewer counts drift around their base value in log space: pull back, and noise. */
const REVERSION = 0.8;
const NOISE = 0.25;
const MAX_VIEWERS = 500_000;
/** A channel that restarts goes live again this many seconds later, at churn 1. */
const RESTART_GAP_SECONDS: [number, number] = [60, 300];
/** Streams past 48 hours are looked for at most this often. */
const EXPIRY_CHECK_MS = 5_000;

/** What {@link advanceWorld} changed. */
export interface ChurnReport {
  steps: number;
  moved: number;
  ended: number;
  started: number;
  /** Channels that went live again under a new stream id. */
  restarted: number;
}

/**
 * Brings the world up to `now`. With `request`, takes at least one step even if no time
 * passed (a page is being served).
 */
export function advanceWorld(
  world: World,
  now: number,
  options: { request: boolean },
): ChurnReport {
  const report: ChurnReport = { steps: 0, moved: 0, ended: 0, started: 0, restarted: 0 };
  const churn = world.options.churn;
  if (churn <= 0) return report;
  const due = Math.floor((now - world.options.epoch) / STEP_MS);
  const target = options.request ? Math.max(world.steps + 1, due) : Math.max(world.steps, due);
  const steps = target - world.steps;
  if (steps <= 0) return report;
  world.steps = target;
  report.steps = steps;

  const rng = world.rng;
  const restartRate = world.options.restartRate ?? 0;
  const changed: number[] = [];
  const live = world.liveCount;
  const minutes = (churn * steps) / STEPS_PER_MINUTE;

  // Positions are drawn with replacement: a stream drawn twice just moves once more.
  const moves = rng.roundStochastic(live * (1 - Math.exp(-minutes)));
  for (let k = 0; k < moves; k++) {
    const index = world.order[rng.int(0, live - 1)];
    world.viewers[index] = drift(world.viewers[index], world.baseViewers[index], rng.normal());
    changed.push(index);
  }
  report.moved = moves;

  const ends = rng.roundStochastic(live * (1 - Math.exp(-minutes / MEAN_BROADCAST_MINUTES)));
  for (let k = 0; k < ends; k++) {
    const index = world.order[rng.int(0, live - 1)];
    if (world.live[index] === 0) continue;
    endStream(world, index, now);
    changed.push(index);
    report.ended++;
    if (restartRate > 0 && rng.chance(restartRate)) {
      const [min, max] = RESTART_GAP_SECONDS;
      const gapSteps = Math.max(1, Math.round((rng.int(min, max) * 1000) / STEP_MS / churn));
      world.restarts.push({ owner: world.owner[index], dueStep: world.steps + gapSteps });
    }
  }
  report.ended += endExpired(world, now, changed);
  report.restarted = restartChannels(world, now, changed);

  // Streams that start and end within the same batch are never seen: count only survivors.
  const survivors = 1 - Math.exp(-minutes / MEAN_BROADCAST_MINUTES);
  // Restarts take the place of some new channels, so the number of live streams stays level.
  const starts = rng.roundStochastic(world.options.streams * survivors * (1 - restartRate));
  for (let k = 0; k < starts; k++) {
    changed.push(addStream(world, Math.floor(now / 1000) * 1000, now));
  }
  report.started = starts;

  reorder(world, changed);
  return report;
}

/** Brings back the channels whose restart is due, each under a new stream id. */
function restartChannels(world: World, now: number, changed: number[]): number {
  let restarted = 0;
  const waiting: World["restarts"] = [];
  for (const restart of world.restarts) {
    if (restart.dueStep > world.steps) {
      waiting.push(restart);
      continue;
    }
    const current = world.restartedAs.get(restart.owner) ?? restart.owner;
    if (world.live[current] === 1) continue;
    const index = addStream(world, Math.floor(now / 1000) * 1000, now);
    world.owner[index] = restart.owner;
    world.previous[index] = current;
    world.restartedAs.set(restart.owner, index);
    changed.push(index);
    restarted++;
  }
  world.restarts = waiting;
  return restarted;
}

/** Twitch ends every broadcast at 48 hours (stale entries listed on purpose stay, as cached). */
function endExpired(world: World, now: number, changed: number[]): number {
  if (now < world.nextExpiryCheck) return 0;
  world.nextExpiryCheck = now + EXPIRY_CHECK_MS;
  let ended = 0;
  for (let p = 0; p < world.liveCount; p++) {
    const index = world.order[p];
    if (index < world.options.expiredStreams || world.live[index] === 0) continue;
    if (now - world.startedAt[index] >= MAX_BROADCAST_MS) {
      endStream(world, index, now);
      changed.push(index);
      ended++;
    }
  }
  return ended;
}

function drift(viewers: number, base: number, z: number): number {
  const x = Math.log1p(viewers);
  const center = Math.log1p(base);
  const next = center + REVERSION * (x - center) + NOISE * z;
  return Math.min(MAX_VIEWERS, Math.max(0, Math.round(Math.expm1(next))));
}
