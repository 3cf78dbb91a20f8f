/**
 * The explicit state of one scan and the few operations every phase uses
 * on it: produce a stream, write a tombstone, record a failure. One key is
 * written at most once per scan, and a refused write marks everything the
 * scan wrote as unacknowledged.
 *
 * @module
 */

import type { StreamSource } from "../helix/client.ts";
import type { HelixStream } from "../helix/stream.ts";
import type { RecordSink } from "./batcher.ts";
import type { ScanPlan } from "./plan.ts";
import type { Selection } from "./selection.ts";
import { ScanDeduper } from "./dedupe.ts";
import type { IdLookup } from "./endings.ts";
import { IdSet, LiveSet } from "./live_set.ts";
import {
  type EndReason,
  isExpired,
  type LiveStream,
  liveStream,
  type StreamRecord,
  streamRecord,
  tombstoneRecord,
} from "./record.ts";

/** Where a scan broke off. */
export type ScanStage = "helix" | "kafka" | "lookup" | "aborted";

/** Why a scan did not succeed: data for the service to branch on, and a message for the log. */
export interface ScanFailure {
  stage: ScanStage;
  message: string;
}

/** Everything a scan needs. */
export interface ScanOptions {
  source: StreamSource;
  sink: RecordSink;
  plan: ScanPlan;
  /** The live streams before this scan; `null` when unknown (no tombstones then). */
  previous: ReadonlyMap<string, LiveStream> | null;
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
  /** Newer events (EventSub) that may overrule a page: such a stream is not written. */
  events?: EventVerdicts;
  /** Wait before asking again for a cursor Helix called invalid (default 250 ms). */
  cursorRetryMs?: number;
  /** Confirm a look-up's "gone" by a second look-up this long after (unset: end at once). */
  confirmEndsMs?: number;
  /**
   * A missing stream that started less than this long ago and that a look-up found gone stays
   * as it was, to be looked up again at the next scan (unset: ended at once).
   */
  holdYoungMs?: number;
}

/** What real-time events say about a stream that a page listed. */
export interface EventVerdicts {
  /** Whether an event newer than `fetchedAt` says that stream is over. */
  supersedes(userId: string, streamId: string, fetchedAt: number): boolean;
}

/** One stream as a scan holds it: its record, ready to send, and what later scans need. */
export interface Seen {
  id: string;
  record: StreamRecord;
  live: LiveStream;
}

/** The state one scan builds up, phase by phase. */
export interface ScanState {
  readonly options: ScanOptions;
  readonly now: () => number;
  readonly started: number;
  /** The source's rate-limit points paid before this scan (null: the source has no budget). */
  readonly spentBefore: number | null;
  /** Stops this scan's fetching: on shutdown, or when one query broke. */
  readonly abort: AbortController;
  readonly dedupe: ScanDeduper<Seen>;
  /** Streams produced with a value, and what later scans need of them: the next live set. */
  readonly observed: LiveSet;
  /**
   * Every key written in this scan, value or tombstone: at most one record per key. The
   * union of `observed` and `tombstones`, not a third copy of a million ids.
   */
  readonly produced: IdLookup;
  /** Tombstones written, by id. */
  readonly tombstones: Map<string, EndReason>;
  /** Missing streams whose fate is unknown: they stay live as they were. */
  readonly unresolved: IdSet;
  readonly counts: {
    pages: number;
    streams: number;
    records: number;
    recovered: number;
    lookups: number;
    /** Streams not written because a newer event said they are over. */
    superseded: number;
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
export class SinkFailure extends Error {}

/** The state of a scan that is about to start. */
export function createScanState(options: ScanOptions): ScanState {
  const now = options.now ?? Date.now;
  const started = now();
  const observed = new LiveSet();
  const tombstones = new Map<string, EndReason>();
  return {
    options,
    now,
    started,
    spentBefore: options.source.budget?.().spent ?? null,
    abort: new AbortController(),
    dedupe: new ScanDeduper<Seen>(),
    observed,
    produced: { has: (id) => observed.has(id) || tombstones.has(id) },
    tombstones,
    unresolved: new IdSet(),
    counts: { pages: 0, streams: 0, records: 0, recovered: 0, lookups: 0, superseded: 0 },
    lastPageAt: started,
    restricted: false,
    lowestViewers: Infinity,
    languages: new Set(),
    settled: false,
    sinkFailed: false,
    failure: null,
  };
}

/** Whether missing streams may be settled: nothing broke and no stop came. */
export function canSettle(state: ScanState): boolean {
  return state.failure === null && !state.abort.signal.aborted;
}

/**
 * A page's streams as records at once, so that only their serialized form
 * waits in the hold-back window, not the parsed objects.
 */
export function see(state: ScanState, streams: readonly HelixStream[], fetchedAt: number): Seen[] {
  const scanId = state.options.scanId;
  return streams.map((stream) => ({
    id: stream.id,
    record: streamRecord(stream, { scanId, fetchedAt }),
    live: liveStream(stream),
  }));
}

/** Writes the records of streams seen live: a tombstone instead when one is past 48 hours. */
export async function produce(state: ScanState, seen: readonly Seen[]): Promise<void> {
  const records: StreamRecord[] = [];
  const events = state.options.events;
  for (const { id, record, live } of seen) {
    if (state.produced.has(id)) continue;
    if (events?.supersedes(live.userId, id, record.timestamp)) {
      // A newer event says this broadcast is over; the page is older news. The event's own
      // tombstone may have failed, so the scan writes one too (a repeat is harmless), and
      // the id leaves the live state only once Kafka has acknowledged it.
      records.push(tombstone(state, id, "offline", record.timestamp)!);
      state.counts.superseded++;
      continue;
    }
    if (isExpired(live.startedAt, record.timestamp)) {
      records.push(tombstone(state, id, "expired", record.timestamp)!);
      continue;
    }
    state.observed.set(id, live);
    state.counts.records++;
    records.push(record);
  }
  await write(state, records);
}

/** The tombstone of `id`, or null when the scan already wrote a record for it. */
export function tombstone(
  state: ScanState,
  id: string,
  reason: EndReason,
  at = state.now(),
): StreamRecord | null {
  if (state.produced.has(id)) return null;
  state.tombstones.set(id, reason);
  return tombstoneRecord(id, { scanId: state.options.scanId, at, reason });
}

/** Writes records; a refusal marks the scan's writes unacknowledged and is thrown as Kafka's fault. */
export async function write(state: ScanState, records: StreamRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    await state.options.sink.write(records);
  } catch (error) {
    state.sinkFailed = true;
    throw new SinkFailure("", { cause: error });
  }
}

/** Records the scan's first failure and stops its fetching. */
export function fail(state: ScanState, failure: ScanFailure): void {
  state.failure ??= failure;
  state.abort.abort();
}

/** What an error means for the scan: Kafka's fault, a stop, or the stage's own failure. */
export function classify(state: ScanState, error: unknown, stage: ScanStage): ScanFailure {
  if (error instanceof SinkFailure) return { stage: "kafka", message: messageOf(error.cause) };
  if (state.options.signal?.aborted) return { stage: "aborted", message: "shutting down" };
  return { stage, message: messageOf(error) };
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
