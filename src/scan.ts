/**
 * One scan, in three phases around one explicit scan state:
 *
 * 1. fetch: page through every query of the plan, de-duplicate, and produce
 *    records while later pages are fetched;
 * 2. settle: look up the streams that were live and went missing (recover
 *    or tombstone them), expire those past 48 hours and deselect those the
 *    configuration no longer selects;
 * 3. finish: flush, and only then compute the live state that follows.
 *
 * An id leaves the live state only once Kafka acknowledged its tombstone:
 * a tombstone that is lost would otherwise leave a dead stream live in the
 * topic until a restart. Helix and Kafka come in as parameters.
 *
 * @module
 */

import type { HelixQuery, StreamSource } from "./helix.ts";
import type { RecordSink } from "./batcher.ts";
import type { ScanPlan } from "./shards.ts";
import { runPool } from "./pool.ts";
import { type Selection, selects } from "./selection.ts";
import { ScanDeduper } from "./dedupe.ts";
import { findMissing, type LiveState, type Missing, nextState, resolveLookups } from "./endings.ts";
import {
  type EndReason,
  type HelixStream,
  isExpired,
  type LiveStream,
  liveStream,
  type StreamRecord,
  streamRecord,
  tombstoneRecord,
} from "./record.ts";

/** How a scan ended. */
export type ScanResult = "ok" | "failed" | "aborted";

/** Where a scan broke off. */
export type ScanStage = "helix" | "kafka" | "lookup" | "aborted";

/** Why a scan did not succeed: data for the service to branch on, and a message for the log. */
export interface ScanFailure {
  stage: ScanStage;
  message: string;
}

/** The numbers of one scan: its log line and its metrics. */
export interface ScanSummary {
  scanId: string;
  result: ScanResult;
  /** Why, when the scan did not succeed. */
  failure?: ScanFailure;
  pages: number;
  /** Streams in the answers, duplicates included. */
  streams: number;
  /** Distinct streams the pages listed. */
  distinct: number;
  duplicates: number;
  lateDuplicates: number;
  /** Records with a value. */
  records: number;
  /** Missing streams found live by look-up and produced again. */
  recovered: number;
  /** Acknowledged tombstones for streams confirmed gone. */
  ended: number;
  /** Acknowledged tombstones for streams past the 48-hour cap. */
  expired: number;
  /** Acknowledged tombstones for streams that left the selection (filters, MAX_STREAMS). */
  deselected: number;
  lookups: number;
  durationMs: number;
  /** Milliseconds from the last page's arrival to the last acknowledgement. */
  drainMs: number;
  rateLimitRemaining: number | null;
  /** Whether every missing stream was settled (a complete scan with a known state). */
  settled: boolean;
}

/** Everything a scan needs. */
export interface ScanOptions {
  source: StreamSource;
  sink: RecordSink;
  plan: ScanPlan;
  /** The live streams before this scan; `null` when unknown (no tombstones then). */
  previous: LiveState | null;
  scanId: string;
  /** Shards fetched at once. */
  concurrency: number;
  /**
   * Stop after this many distinct streams (the top N by viewers). Missing
   * streams that are still live but below the cut are deselected.
   */
  maxStreams?: number;
  /** The filters: a stream of the previous state that they no longer select is deselected. */
  selection?: Selection;
  /** Stops the scan (shutdown): pending Helix calls end, what was fetched is sent. */
  signal?: AbortSignal;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** A finished scan: its numbers and the state that follows it. */
export interface ScanOutcome {
  summary: ScanSummary;
  state: LiveState | null;
  /** Every language the listing pages showed. */
  languages: ReadonlySet<string>;
}

/** Helix answers at most this many user ids in one look-up. */
const LOOKUP_USERS = 100;

/** One stream as a scan holds it: its record, ready to send, and what later scans need. */
interface Seen {
  id: string;
  record: StreamRecord;
  live: LiveStream;
}

/** The state one scan builds up, phase by phase. */
interface ScanState {
  readonly options: ScanOptions;
  readonly now: () => number;
  readonly started: number;
  /** Stops this scan's fetching: on shutdown, or when one query broke. */
  readonly abort: AbortController;
  readonly dedupe: ScanDeduper<Seen>;
  /** Streams produced with a value, and what later scans need of them. */
  readonly observed: Map<string, LiveStream>;
  /** Every key written in this scan, value or tombstone: at most one record per key. */
  readonly produced: Set<string>;
  /** Tombstones written, by id. */
  readonly tombstones: Map<string, EndReason>;
  /** Missing streams whose fate is unknown: they stay live as they were. */
  readonly unresolved: Set<string>;
  readonly counts: {
    pages: number;
    streams: number;
    records: number;
    recovered: number;
    lookups: number;
  };
  lastPageAt: number;
  /** The MAX_STREAMS cut was reached. */
  restricted: boolean;
  /** The lowest viewer count the pages listed: with the cut reached, the top N's floor. */
  lowestViewers: number;
  readonly languages: Set<string>;
  /** Every missing stream was looked up or expired. */
  settled: boolean;
  /** A write was refused: nothing written in this scan can count as acknowledged. */
  sinkFailed: boolean;
  failure: ScanFailure | null;
}

/** A write to the sink failed: Kafka's fault, not Helix's. */
class SinkFailure extends Error {}

/** Runs one scan. Never throws: failures are reported in the summary. */
export async function runScan(options: ScanOptions): Promise<ScanOutcome> {
  const now = options.now ?? Date.now;
  const state: ScanState = {
    options,
    now,
    started: now(),
    abort: new AbortController(),
    dedupe: new ScanDeduper<Seen>(),
    observed: new Map(),
    produced: new Set(),
    tombstones: new Map(),
    unresolved: new Set(),
    counts: { pages: 0, streams: 0, records: 0, recovered: 0, lookups: 0 },
    lastPageAt: 0,
    restricted: false,
    lowestViewers: Infinity,
    languages: new Set(),
    settled: false,
    sinkFailed: false,
    failure: null,
  };
  state.lastPageAt = state.started;
  const stop = () => state.abort.abort();
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    await fetchPages(state);
    await settleMissing(state);
    return await finish(state);
  } finally {
    options.signal?.removeEventListener("abort", stop);
  }
}

/** Phase 1: every query's pages, produced as they arrive. */
async function fetchPages(state: ScanState): Promise<void> {
  const { plan, concurrency } = state.options;
  try {
    await runPool(
      plan.queries,
      concurrency,
      (query, index) =>
        fetchQuery(state, index, query).catch((error) => {
          // One broken query makes the scan incomplete: stop the others too.
          state.abort.abort();
          throw error;
        }),
    );
  } catch (error) {
    state.abort.abort();
    fail(state, classify(state, error, "helix"));
  }
  // What was fetched is good data even when the scan broke off: produce it.
  await produce(state, state.dedupe.finishAll()).catch((error) =>
    fail(state, classify(state, error, "helix"))
  );
}

async function fetchQuery(state: ScanState, index: number, query: HelixQuery): Promise<void> {
  const { source, maxStreams } = state.options;
  const { counts, dedupe } = state;
  let cursor: string | undefined;
  do {
    if (state.abort.signal.aborted) throw new Error("the scan was stopped");
    let first = 100;
    if (maxStreams !== undefined) {
      const left = maxStreams - (counts.streams - dedupe.counts.duplicates);
      if (left <= 0) {
        state.restricted = true;
        break;
      }
      first = Math.min(first, left);
    }
    const page = await source.fetchPage(query, {
      cursor,
      first,
      signal: state.abort.signal,
      lane: index,
    });
    counts.pages++;
    counts.streams += page.streams.length;
    for (const s of page.streams) {
      state.lowestViewers = Math.min(state.lowestViewers, s.viewer_count);
      state.languages.add(s.language);
    }
    state.lastPageAt = Math.max(state.lastPageAt, page.fetchedAt);
    await produce(state, dedupe.add(index, see(state, page.streams, page.fetchedAt)));
    cursor = page.cursor;
  } while (cursor !== undefined);
  await produce(state, dedupe.finish(index));
}

/** Phase 2: expire what is past 48 hours, look up the rest of the missing streams. */
async function settleMissing(state: ScanState): Promise<void> {
  const { previous, source } = state.options;
  if (previous === null) return;
  const missing = findMissing(previous, state.dedupe.released, { now: state.now() });
  const settling: StreamRecord[] = [];
  for (const id of missing.expired) {
    const record = tombstone(state, id, "expired");
    if (record !== null) settling.push(record);
  }
  // A stream the filters no longer select (they were narrowed) leaves without a look-up.
  const lookup: Missing[] = [];
  for (const m of missing.lookup) {
    if (selected(state, previous.get(m.id)!)) {
      lookup.push(m);
      continue;
    }
    const record = tombstone(state, m.id, "deselected");
    if (record !== null) settling.push(record);
  }
  await write(state, settling).catch((error) => fail(state, classify(state, error, "kafka")));

  if (!canSettle(state)) {
    for (const m of lookup) state.unresolved.add(m.id);
    return;
  }
  const batches = byUser(lookup, LOOKUP_USERS);
  for (const [i, batch] of batches.entries()) {
    if (!canSettle(state)) {
      // An unanswered look-up proves nothing: keep those streams as they were.
      for (const m of batches.slice(i).flat()) state.unresolved.add(m.id);
      return;
    }
    try {
      const userIds = [...new Set(batch.map((m) => m.userId))];
      const page = await source.fetchPage({ user_id: userIds }, {
        first: 100,
        signal: state.abort.signal,
      });
      state.counts.lookups++;
      const outcome = resolveLookups(batch, page.streams, { seen: state.produced });
      const records: StreamRecord[] = [];
      for (const id of outcome.ended) {
        const record = tombstone(state, id, "ended");
        if (record !== null) records.push(record);
      }
      // Live but outside the selection now (another category, below the top N): deselect.
      const recovered = outcome.recovered.filter((s) => kept(state, s));
      for (const s of outcome.recovered) {
        if (recovered.includes(s)) continue;
        const record = tombstone(state, s.id, "deselected");
        if (record !== null) records.push(record);
      }
      state.counts.recovered += recovered.length;
      const discovered = outcome.discovered.filter((s) => kept(state, s));
      await produce(state, see(state, [...recovered, ...discovered], state.now()));
      await write(state, records);
    } catch (error) {
      fail(state, classify(state, error, "lookup"));
      for (const m of batches.slice(i).flat()) {
        if (!state.tombstones.has(m.id) && !state.observed.has(m.id)) state.unresolved.add(m.id);
      }
      return;
    }
  }
  state.settled = true;
}

/** Phase 3: flush, then the state that follows, with only acknowledged tombstones removed. */
async function finish(state: ScanState): Promise<ScanOutcome> {
  const { options, counts, dedupe } = state;
  try {
    await options.sink.flush();
  } catch (error) {
    state.sinkFailed = true;
    const failure = classify(state, new SinkFailure("", { cause: error }), "kafka");
    // The broker's health matters more to the service than why the fetch broke off.
    if (state.failure === null || state.failure.stage !== "aborted") state.failure = failure;
  }
  const acknowledged = !state.sinkFailed;
  const done = state.now();

  let next: LiveState | null = null;
  const previous = options.previous;
  if (previous !== null) {
    next = nextState(previous, {
      observed: state.observed,
      removed: acknowledged ? state.tombstones.keys() : [],
      complete: state.settled,
    });
    const kept = acknowledged
      ? state.unresolved
      : [...state.unresolved, ...state.tombstones.keys()];
    for (const id of kept) {
      const live = previous.get(id);
      if (live !== undefined && !next.has(id)) next.set(id, live);
    }
  }
  const ended = acknowledged ? countReasons(state.tombstones, "ended") : 0;
  const expired = acknowledged ? countReasons(state.tombstones, "expired") : 0;
  const deselected = acknowledged ? countReasons(state.tombstones, "deselected") : 0;
  const failure = state.failure ?? undefined;
  return {
    summary: {
      scanId: options.scanId,
      result: failure === undefined ? "ok" : failure.stage === "aborted" ? "aborted" : "failed",
      failure,
      ...counts,
      ended,
      expired,
      deselected,
      distinct: counts.streams - dedupe.counts.duplicates,
      duplicates: dedupe.counts.duplicates,
      lateDuplicates: dedupe.counts.lateDuplicates,
      durationMs: done - state.started,
      drainMs: Math.max(0, done - state.lastPageAt),
      rateLimitRemaining: options.source.rateLimitRemaining(),
      settled: state.settled,
    },
    state: next,
    languages: state.languages,
  };
}

/** Whether missing streams may be settled: nothing broke and no stop came. */
function canSettle(state: ScanState): boolean {
  return state.failure === null && !state.abort.signal.aborted;
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

// A page's streams are turned into records at once, so that only their
// serialized form waits in the hold-back window, not the parsed objects.
function see(state: ScanState, streams: readonly HelixStream[], fetchedAt: number): Seen[] {
  const scanId = state.options.scanId;
  return streams.map((stream) => ({
    id: stream.id,
    record: streamRecord(stream, { scanId, fetchedAt }),
    live: liveStream(stream),
  }));
}

/** Writes the records of streams seen live: a tombstone instead when one is past 48 hours. */
async function produce(state: ScanState, seen: readonly Seen[]): Promise<void> {
  const records: StreamRecord[] = [];
  for (const { id, record, live } of seen) {
    if (state.produced.has(id)) continue;
    if (isExpired(live.startedAt, record.timestamp)) {
      records.push(tombstone(state, id, "expired", record.timestamp)!);
      continue;
    }
    state.produced.add(id);
    state.observed.set(id, live);
    state.counts.records++;
    records.push(record);
  }
  await write(state, records);
}

/** The tombstone of `id`, or null when the scan already wrote a record for it. */
function tombstone(
  state: ScanState,
  id: string,
  reason: EndReason,
  at = state.now(),
): StreamRecord | null {
  if (state.produced.has(id)) return null;
  state.produced.add(id);
  state.tombstones.set(id, reason);
  return tombstoneRecord(id, { scanId: state.options.scanId, at, reason });
}

async function write(state: ScanState, records: StreamRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    await state.options.sink.write(records);
  } catch (error) {
    state.sinkFailed = true;
    throw new SinkFailure("", { cause: error });
  }
}

function fail(state: ScanState, failure: ScanFailure): void {
  state.failure ??= failure;
  state.abort.abort();
}

/** What an error means for the scan: Kafka's fault, a stop, or the stage's own failure. */
function classify(state: ScanState, error: unknown, stage: ScanStage): ScanFailure {
  if (error instanceof SinkFailure) return { stage: "kafka", message: messageOf(error.cause) };
  if (state.options.signal?.aborted) return { stage: "aborted", message: "shutting down" };
  return { stage, message: messageOf(error) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function countReasons(tombstones: ReadonlyMap<string, EndReason>, reason: EndReason): number {
  let n = 0;
  for (const r of tombstones.values()) if (r === reason) n++;
  return n;
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
