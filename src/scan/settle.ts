/**
 * The second phase of a scan: settle the streams that were live and that
 * the pages did not list. Those past 48 hours expire; those the filters no
 * longer select are deselected; the rest are looked up by user id, every
 * stream of one user in the same look-up, and are recovered, ended, or
 * deselected (another category, below the MAX_STREAMS cut). A look-up that
 * fails or is stopped leaves its streams and all later ones as they were.
 *
 * Helix answers from cache nodes that disagree: one minutes behind has not
 * yet heard of a stream that another listed. With `confirmEndsMs`, a stream
 * a look-up found gone is looked up once more that long after, and ends only
 * if it is gone again (fewer false ends, a little more staleness). With
 * `holdYoungMs`, a stream younger than that is not ended on a look-up's word
 * at all: the nodes that have not heard of it yet are the ones that say so.
 *
 * @module
 */

import { findMissing, type Missing, resolveLookups } from "./endings.ts";
import type { HelixStream } from "../helix/stream.ts";
import { type EndReason, type LiveStream, liveStream, type StreamRecord } from "./record.ts";
import { selects } from "./selection.ts";
import {
  canSettle,
  classify,
  fail,
  produce,
  type ScanState,
  see,
  tombstone,
  write,
} from "./state.ts";
import { sleep } from "../util/retry.ts";

/** Helix answers at most this many user ids in one look-up. */
const LOOKUP_USERS = 100;
/**
 * How long Helix's cache nodes take to agree that a new stream exists: listed 30 s to 3 minutes
 * after it starts, and nodes minutes apart (reports of up to 15 minutes are rare). What
 * `HELIX_CACHE_HORIZON` should be against Twitch, and what the fidelity benchmark measures.
 */
export const HOLD_YOUNG_MS = 10 * 60_000;

/** Phase 2: expire what is past 48 hours, look up the rest of the missing streams. */
export async function settleMissing(state: ScanState): Promise<void> {
  const { previous } = state.options;
  if (previous === null) return;
  const missing = findMissing(previous, state.dedupe.released, { now: state.now() });
  const settling = tombstones(state, missing.expired, "expired");
  // A stream the filters no longer select (they were narrowed) leaves without a look-up.
  const [lookup, narrowed] = partition(missing.lookup, (m) => selected(state, previous.get(m.id)!));
  settling.push(...tombstones(state, narrowed.map((m) => m.id), "deselected"));
  await write(state, settling).catch((error) => fail(state, classify(state, error, "kafka")));

  if (!goOn(state)) {
    for (const m of lookup) state.unresolved.add(m.id);
    return;
  }
  // With a confirmation, a first round's "gone" is asked again a moment later: one lagging
  // cache node's empty answer must not end a live stream.
  const confirmMs = state.options.confirmEndsMs;
  const gone = await lookUpAll(state, lookup, { final: confirmMs === undefined });
  if (gone === null) return;
  if (gone.length > 0 && confirmMs !== undefined) {
    await sleep(confirmMs, state.abort.signal);
    if ((await lookUpAll(state, gone, { final: true })) === null) return;
  }
  state.settled = true;
}

/**
 * Whether settling goes on. A stop that came between two steps is the scan's
 * failure: the scan is aborted, not "ok" with streams left unsettled.
 */
function goOn(state: ScanState): boolean {
  if (canSettle(state)) return true;
  if (state.failure === null) {
    fail(state, classify(state, new Error("the scan was stopped"), "lookup"));
  }
  return false;
}

/**
 * Looks up `missing` in batches; with `final`, writes the tombstones of those gone, otherwise
 * returns them. Returns null when a look-up failed or the scan stopped (the rest stay as they
 * were, unresolved).
 */
async function lookUpAll(
  state: ScanState,
  missing: readonly Missing[],
  options: { final: boolean },
): Promise<Missing[] | null> {
  const gone: Missing[] = [];
  const batches = byUser(missing, LOOKUP_USERS);
  for (const [i, batch] of batches.entries()) {
    if (!goOn(state)) {
      // An unanswered look-up proves nothing: keep those streams as they were.
      for (const m of [...batches.slice(i).flat(), ...gone]) state.unresolved.add(m.id);
      return null;
    }
    try {
      gone.push(...await lookUp(state, batch, options));
    } catch (error) {
      fail(state, classify(state, error, "lookup"));
      for (const m of [...batches.slice(i).flat(), ...gone]) {
        if (!state.tombstones.has(m.id) && !state.observed.has(m.id)) state.unresolved.add(m.id);
      }
      return null;
    }
  }
  return gone;
}

/** Looks up one batch of missing streams and writes what the answer shows; returns those gone. */
async function lookUp(
  state: ScanState,
  batch: readonly Missing[],
  options: { final: boolean },
): Promise<Missing[]> {
  const userIds = [...new Set(batch.map((m) => m.userId))];
  const page = await state.options.source.fetchPage({ user_id: userIds }, {
    first: 100,
    signal: state.abort.signal,
  });
  state.counts.lookups++;
  const outcome = resolveLookups(batch, page.streams, { seen: state.produced });
  const records = options.final
    ? tombstones(state, endedOrHeld(state, outcome.ended), "ended")
    : [];
  // Live but outside the selection now (another category, below the top N): deselect.
  const [recovered, left] = partition(outcome.recovered, (s) => kept(state, s));
  records.push(...tombstones(state, left.map((s) => s.id), "deselected"));
  state.counts.recovered += recovered.length;
  const discovered = outcome.discovered.filter((s) => kept(state, s));
  await produce(state, see(state, [...recovered, ...discovered], state.now()));
  await write(state, records);
  const ended = new Set(outcome.ended);
  return options.final ? [] : batch.filter((m) => ended.has(m.id));
}

/**
 * The streams a look-up found gone that end now. With `holdYoungMs`, one younger than that stays
 * as it was (unresolved) until a later scan: Helix's cache nodes learn of a new stream minutes
 * apart, so a node that has not yet heard of it answers that it is gone.
 */
function endedOrHeld(state: ScanState, ids: readonly string[]): string[] {
  const { holdYoungMs, previous } = state.options;
  if (holdYoungMs === undefined || previous === null) return [...ids];
  const now = state.now();
  const events = state.options.events;
  const [held, ended] = partition(ids, (id) => {
    const live = previous.get(id)!;
    // An event that ended the broadcast settles it: nothing to wait for. So does a
    // stream.offline of its channel since it began, which found no id to end when it came
    // during the scan that first listed the stream.
    return now - live.startedAt < holdYoungMs &&
      !events?.supersedes(live.userId, id, live.startedAt);
  });
  for (const id of held) state.unresolved.add(id);
  return ended;
}

/** The tombstones of `ids` not yet written in this scan. */
function tombstones(state: ScanState, ids: Iterable<string>, reason: EndReason): StreamRecord[] {
  const records: StreamRecord[] = [];
  for (const id of ids) {
    const record = tombstone(state, id, reason);
    if (record !== null) records.push(record);
  }
  return records;
}

/** Splits `items` into those `test` accepts and the rest, each in their order. */
function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

function selected(state: ScanState, live: LiveStream): boolean {
  return state.options.selection === undefined || selects(state.options.selection, live);
}

/** Whether a stream a look-up found live belongs in the topic. */
function kept(state: ScanState, stream: HelixStream): boolean {
  if (!selected(state, liveStream(stream))) return false;
  // Under MAX_STREAMS, a stream below the top N's floor is not among them; one above it was
  // missed by paging.
  return !state.restricted || stream.viewer_count >= state.lowestViewers;
}

/**
 * Splits missing streams into look-up batches of at most `users` user ids,
 * keeping every stream of one user in the same batch: one answer then
 * settles all of that user's streams, and no live stream is produced twice.
 */
export function byUser(missing: readonly Missing[], users: number): Missing[][] {
  const groups = new Map<string, Missing[]>();
  for (const m of missing) {
    const group = groups.get(m.userId);
    if (group) group.push(m);
    else groups.set(m.userId, [m]);
  }
  const batches: Missing[][] = [];
  let batch: Missing[] = [];
  let count = 0;
  for (const group of groups.values()) {
    if (count === users) {
      batches.push(batch);
      batch = [];
      count = 0;
    }
    batch.push(...group);
    count++;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
