/**
 * The simulated live directory: which streams are live, their current
 * viewer counts, and their order. Streams are kept as a few numbers each and
 * generated whole only when a page is served, so 10^5 streams stay cheap.
 *
 * @module
 */

import { formatTime, type GenerateOptions, generateStream, streamFacets } from "./data.ts";
import type { HelixStream } from "../helix/stream.ts";
import { hash32, Prng } from "./prng.ts";
import { scoreFraction } from "./data.ts";

/** What a world is made of. */
export interface WorldOptions {
  seed: number;
  /** Streams live at the start (indices 0 .. streams-1). */
  streams: number;
  /** The first this many streams started more than 48 hours ago. */
  expiredStreams: number;
  /** The this many streams after the expired ones have a language code outside the usual list. */
  unlistedStreams?: number;
  /** Every fourth stream gets a hostile title. */
  hostileTitles?: boolean;
  /** How lively the world is; 0 keeps it frozen. */
  churn: number;
  /** Share of ending streams whose channel goes live again soon under a new stream id. */
  restartRate?: number;
  /** The start, in milliseconds: `started_at` values are counted back from it. */
  epoch: number;
  /** How long ended streams stay in `recentlyEnded`, for lagging cache nodes (default 0). */
  keepEndedMs?: number;
}

/** The state of a world. Mutated only by this module and `churn.ts`. */
export interface World {
  readonly options: WorldOptions;
  readonly generate: GenerateOptions;
  /** Indices allocated so far: every stream that was ever live has an index below it. */
  size: number;
  viewers: Float64Array;
  /** The viewer count a stream drifts around. */
  baseViewers: Float64Array;
  /** Tie-breaking part of the sort score, distinct per stream. */
  fraction: Float64Array;
  language: Uint8Array;
  game: Uint8Array;
  startedAt: Float64Array;
  live: Uint8Array;
  /** When the world made a stream live, in milliseconds; -Infinity for the streams of the start. */
  liveSince: Float64Array;
  /** When a stream ended, in milliseconds (meaningful only once `live` is 0). */
  endedAt: Float64Array;
  /** The channel's broadcast before this one, or -1: what a lagging cache may still list. */
  previous: Int32Array;
  /**
   * Streams ended within the last {@link WorldOptions.keepEndedMs}, highest score first: lagging
   * cache nodes still list them. Their scores no longer change.
   */
  recentlyEnded: number[];
  /** The index whose user a stream belongs to: its own, or the first stream of a channel that restarted. */
  owner: Int32Array;
  /** The latest stream of each channel that restarted: owner index to stream index. */
  readonly restartedAs: Map<number, number>;
  /** Channels that ended a stream and go live again at a later step. */
  restarts: { owner: number; dueStep: number }[];
  /** Live stream indices by score, highest first; only the first `liveCount` entries count. */
  order: Int32Array;
  liveCount: number;
  /** Churn steps applied so far. */
  steps: number;
  /** When streams over 48 hours old are next looked for, in milliseconds. */
  nextExpiryCheck: number;
  /** Draws of the churn, seeded from the world's seed. */
  readonly rng: Prng;
}

/** Creates the world at its start: streams 0 .. streams-1, all live. */
export function createWorld(options: WorldOptions): World {
  const generate = {
    now: options.epoch,
    expiredStreams: options.expiredStreams,
    unlistedStreams: options.unlistedStreams,
    hostileTitles: options.hostileTitles,
  };
  const capacity = Math.max(16, options.streams);
  const world: World = {
    options,
    generate,
    size: 0,
    viewers: new Float64Array(capacity),
    baseViewers: new Float64Array(capacity),
    fraction: new Float64Array(capacity),
    language: new Uint8Array(capacity),
    game: new Uint8Array(capacity),
    startedAt: new Float64Array(capacity),
    live: new Uint8Array(capacity),
    liveSince: new Float64Array(capacity),
    endedAt: new Float64Array(capacity),
    previous: new Int32Array(capacity),
    recentlyEnded: [],
    owner: new Int32Array(capacity),
    restartedAs: new Map(),
    restarts: [],
    order: new Int32Array(capacity),
    liveCount: 0,
    steps: 0,
    nextExpiryCheck: options.epoch,
    rng: new Prng(hash32(options.seed, 0xc4c4)),
  };
  for (let i = 0; i < options.streams; i++) addStream(world);
  const order = world.order.subarray(0, world.liveCount);
  order.sort((a, b) => score(world, b) - score(world, a));
  return world;
}

/**
 * Allocates the next index and makes it live (its facets from the generator) at `now` (unset:
 * live from the start). The caller puts it into `order`: at creation in one sort, later by
 * {@link reorder}.
 */
export function addStream(world: World, startedAt?: number, now = -Infinity): number {
  const index = world.size;
  if (index >= world.viewers.length) grow(world, world.viewers.length * 2);
  const facets = streamFacets(world.options.seed, index, world.generate);
  world.viewers[index] = facets.viewers;
  world.baseViewers[index] = facets.viewers;
  world.fraction[index] = scoreFraction(world.options.seed, index);
  world.language[index] = facets.language;
  world.game[index] = facets.game;
  world.startedAt[index] = startedAt ?? facets.startedAt;
  world.live[index] = 1;
  world.liveSince[index] = now;
  world.previous[index] = -1;
  world.owner[index] = index;
  world.order[world.liveCount] = index;
  world.liveCount++;
  world.size++;
  return index;
}

/** Ends a live stream at `now`; a lagging cache keeps listing it for a while. */
export function endStream(world: World, index: number, now: number): void {
  world.live[index] = 0;
  world.endedAt[index] = now;
  const keep = world.options.keepEndedMs ?? 0;
  if (keep <= 0) return;
  const ended = world.recentlyEnded.filter((i) => world.endedAt[i] > now - keep);
  const s = score(world, index);
  let p = 0;
  while (p < ended.length && score(world, ended[p]) > s) p++;
  ended.splice(p, 0, index);
  world.recentlyEnded = ended;
}

/** A stream's sort score: its viewer count, ties broken by a per-stream fraction. */
export function score(world: World, index: number): number {
  return world.viewers[index] + world.fraction[index];
}

/** The position in `order` of the first live stream whose score is below `s`. */
export function positionBelow(world: World, s: number): number {
  let lo = 0;
  let hi = world.liveCount;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (score(world, world.order[mid]) >= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The stream at `index` as Helix would send it now. */
export function streamAt(world: World, index: number): HelixStream {
  const stream = generateStream(world.options.seed, index, world.generate);
  stream.viewer_count = world.viewers[index];
  stream.started_at = formatTime(world.startedAt[index]);
  const owner = world.owner[index];
  if (owner !== index) {
    // A channel that went live again: a new stream id, the same user.
    const user = generateStream(world.options.seed, owner, world.generate);
    stream.user_id = user.user_id;
    stream.user_login = user.user_login;
    stream.user_name = user.user_name;
    stream.thumbnail_url = user.thumbnail_url;
  }
  return stream;
}

/** Live stream indices, highest score first. */
export function liveIndices(world: World): number[] {
  return Array.from(world.order.subarray(0, world.liveCount));
}

/**
 * Rebuilds the order after the streams in `changed` got new scores, ended (live = 0) or were
 * added: O(live + changed log changed), instead of sorting everything again.
 */
export function reorder(world: World, changed: readonly number[]): void {
  if (changed.length === 0) return;
  const mark = new Uint8Array(world.size);
  for (const i of changed) mark[i] = 1;
  const moved = [...new Set(changed)].filter((i) => world.live[i] === 1);
  moved.sort((a, b) => score(world, b) - score(world, a));
  const next = new Int32Array(Math.max(world.order.length, world.liveCount + moved.length));
  let n = 0;
  let m = 0;
  for (let p = 0; p < world.liveCount; p++) {
    const index = world.order[p];
    if (mark[index] === 1) continue;
    const s = score(world, index);
    while (m < moved.length && score(world, moved[m]) > s) next[n++] = moved[m++];
    next[n++] = index;
  }
  while (m < moved.length) next[n++] = moved[m++];
  world.order = next;
  world.liveCount = n;
}

function grow(world: World, capacity: number): void {
  world.viewers = resized(world.viewers, capacity);
  world.baseViewers = resized(world.baseViewers, capacity);
  world.fraction = resized(world.fraction, capacity);
  world.language = resized(world.language, capacity);
  world.game = resized(world.game, capacity);
  world.startedAt = resized(world.startedAt, capacity);
  world.live = resized(world.live, capacity);
  world.liveSince = resized(world.liveSince, capacity);
  world.endedAt = resized(world.endedAt, capacity);
  world.previous = resized(world.previous, capacity);
  world.owner = resized(world.owner, capacity);
  world.order = resized(world.order, capacity);
}

function resized<T extends Float64Array | Uint8Array | Int32Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array);
  return next;
}
