/**
 * Deciding which streams ended. Helix never says so: an ended stream just
 * stops being listed, and paging also misses live streams now and then. So
 * a stream that was live and is missing from a complete scan is looked up by
 * its user id before it is declared ended, and a stream older than the
 * longest possible broadcast is ended whatever Helix says. Pure functions.
 *
 * @module
 */

import type { HelixStream } from "../helix/stream.ts";
import { LiveSet } from "./live_set.ts";
import { isExpired, type LiveStream } from "./record.ts";

/**
 * The live streams the topic holds: id to the fields later scans need. The
 * service holds a compact {@link LiveSet}; any Map will do in tests.
 */
export interface LiveState extends ReadonlyMap<string, LiveStream> {
  /** Adds or replaces a stream. */
  set(id: string, live: LiveStream): unknown;
  /** Removes a stream; whether it was there. */
  delete(id: string): boolean;
  /** Removes every stream. */
  clear(): void;
}

/** Anything that answers whether it holds an id: a Set, an IdSet, a LiveSet. */
export interface IdLookup {
  /** Whether `id` is held. */
  has(id: string): boolean;
}

/** A stream to look up: it was live and the scan did not see it. */
export interface Missing {
  id: string;
  userId: string;
}

/**
 * Splits the previous state's streams that the scan did not see into those
 * to look up and those that are past the 48-hour cap (ended without asking).
 */
export function findMissing(
  previous: ReadonlyMap<string, LiveStream>,
  seen: IdLookup,
  options: { now: number },
): { lookup: Missing[]; expired: string[] } {
  const { now } = options;
  const lookup: Missing[] = [];
  const expired: string[] = [];
  for (const [id, stream] of previous) {
    if (seen.has(id)) continue;
    if (isExpired(stream.startedAt, now)) expired.push(id);
    else lookup.push({ id, userId: stream.userId });
  }
  return { lookup, expired };
}

/** What the look-ups of missing streams found. */
export interface LookupOutcome {
  /** Missing streams that are still live: paging missed them. */
  recovered: HelixStream[];
  /** Missing streams confirmed gone: their user is offline or live with another stream. */
  ended: string[];
  /** Streams of those users that the scan did not see at all (a new broadcast). */
  discovered: HelixStream[];
}

/**
 * Matches the look-up answers to the streams that were looked up. Only pass
 * the streams whose look-up succeeded: an unanswered look-up proves nothing.
 */
export function resolveLookups(
  looked: readonly Missing[],
  answers: readonly HelixStream[],
  options: { seen: IdLookup },
): LookupOutcome {
  const { seen } = options;
  const byId = new Map(answers.map((s) => [s.id, s]));
  const recovered: HelixStream[] = [];
  const ended: string[] = [];
  for (const missing of looked) {
    const live = byId.get(missing.id);
    if (live) recovered.push(live);
    else ended.push(missing.id);
  }
  const lookedIds = new Set(looked.map((m) => m.id));
  const discovered = answers.filter((s) => !lookedIds.has(s.id) && !seen.has(s.id));
  return { recovered, ended, discovered };
}

/**
 * The state after a scan. A complete scan replaces the state with what it
 * observed; an incomplete one only adds to it, since what it did not see may
 * well be live. Ended streams leave either way. A complete scan's observed
 * LiveSet becomes the state itself: no second copy of a large set is made.
 */
export function nextState(
  previous: ReadonlyMap<string, LiveStream>,
  change: {
    observed: ReadonlyMap<string, LiveStream>;
    removed: Iterable<string>;
    complete: boolean;
  },
): LiveSet {
  let state: LiveSet;
  if (change.complete && change.observed instanceof LiveSet) {
    state = change.observed;
  } else {
    state = change.complete ? new LiveSet() : LiveSet.from(previous);
    for (const [id, stream] of change.observed) state.set(id, stream);
  }
  for (const id of change.removed) state.delete(id);
  return state;
}
