/**
 * One scan: page through every query of the plan, de-duplicate, produce
 * records while later pages are fetched, then settle the streams that went
 * missing (look them up, recover or tombstone them) and expire those past
 * 48 hours. Helix and Kafka come in as parameters.
 *
 * @module
 */

import type { HelixQuery, StreamSource } from "./helix.ts";
import type { RecordSink } from "./batcher.ts";
import type { ScanPlan } from "./shards.ts";
import { ScanDeduper } from "./dedupe.ts";
import { findMissing, type LiveState, type Missing, nextState, resolveLookups } from "./endings.ts";
import {
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

/** The numbers of one scan: its log line and its metrics. */
export interface ScanSummary {
  scanId: string;
  result: ScanResult;
  /** The reason, when the scan did not succeed. */
  error?: string;
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
  /** Tombstones for streams confirmed gone. */
  ended: number;
  /** Tombstones for streams past the 48-hour cap. */
  expired: number;
  lookups: number;
  durationMs: number;
  /** Milliseconds from the last page's arrival to the last acknowledgement. */
  drainMs: number;
  rateLimitRemaining: number | null;
  /** Whether missing streams were settled (a complete, unrestricted scan with a known state). */
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
  /** Stop after this many distinct streams (a top-N scan never settles missing streams). */
  maxStreams?: number;
  /** Aborts the scan between pages (shutdown). */
  signal?: AbortSignal;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** A finished scan: its numbers and the state that follows it. */
export interface ScanOutcome {
  summary: ScanSummary;
  state: LiveState | null;
}

/** Runs one scan. Never throws: failures are reported in the summary. */
export async function runScan(options: ScanOptions): Promise<ScanOutcome> {
  const now = options.now ?? Date.now;
  const started = now();
  const { source, sink, scanId } = options;
  const abort = new AbortController();
  const stop = () => abort.abort();
  options.signal?.addEventListener("abort", stop, { once: true });

  const dedupe = new ScanDeduper<Seen>();
  const observed = new Map<string, LiveStream>();
  const tombstoned = new Set<string>();
  const counts = {
    pages: 0,
    streams: 0,
    records: 0,
    recovered: 0,
    ended: 0,
    expired: 0,
    lookups: 0,
  };
  let lastPageAt = started;
  let restricted = false;

  // A page's streams are turned into records at once, so that only their
  // serialized form waits in the hold-back window, not the parsed objects.
  function see(streams: readonly HelixStream[], fetchedAt: number): Seen[] {
    return streams.map((stream) => ({
      id: stream.id,
      record: streamRecord(stream, { scanId, fetchedAt }),
      live: liveStream(stream),
    }));
  }

  async function emit(seen: Seen[]) {
    const records: StreamRecord[] = [];
    for (const { id, record, live } of seen) {
      if (isExpired(live.startedAt, record.timestamp)) {
        if (!tombstoned.has(id)) {
          tombstoned.add(id);
          counts.expired++;
          records.push(tombstoneRecord(id, { scanId, at: record.timestamp, reason: "expired" }));
        }
        continue;
      }
      observed.set(id, live);
      counts.records++;
      records.push(record);
    }
    if (records.length > 0) await sink.write(records);
  }

  async function runQuery(index: number, query: HelixQuery) {
    let cursor: string | undefined;
    do {
      if (abort.signal.aborted) throw new ScanAborted();
      let first = 100;
      if (options.maxStreams !== undefined) {
        const left = options.maxStreams - (counts.streams - dedupe.counts.duplicates);
        if (left <= 0) {
          restricted = true;
          break;
        }
        first = Math.min(first, left);
      }
      const page = await source.fetchPage(query, {
        cursor,
        first,
        signal: abort.signal,
        lane: index,
      });
      counts.pages++;
      counts.streams += page.streams.length;
      lastPageAt = Math.max(lastPageAt, page.fetchedAt);
      await emit(dedupe.add(index, see(page.streams, page.fetchedAt)));
      cursor = page.cursor;
    } while (cursor !== undefined);
    await emit(dedupe.finish(index));
  }

  let result: ScanResult = "ok";
  let error: string | undefined;
  try {
    await runPool(
      options.plan.queries,
      options.concurrency,
      (query, index) =>
        runQuery(index, query).catch((e) => {
          // One broken query makes the scan incomplete: stop the others too.
          abort.abort();
          throw e;
        }),
    );
  } catch (e) {
    abort.abort();
    result = e instanceof ScanAborted || options.signal?.aborted ? "aborted" : "failed";
    error = result === "aborted" ? "shutting down" : (e as Error).message;
  }
  // What was fetched is good data even when the scan broke off: produce it.
  await emit(dedupe.finishAll()).catch(() => {});

  const settled = result === "ok" && !restricted && options.previous !== null;
  const unresolved: Missing[] = [];
  if (options.previous !== null) {
    const missing = findMissing(options.previous, dedupe.released, { now: now() });
    const records: StreamRecord[] = [];
    for (const id of missing.expired) {
      if (tombstoned.has(id)) continue;
      tombstoned.add(id);
      counts.expired++;
      records.push(tombstoneRecord(id, { scanId, at: now(), reason: "expired" }));
    }
    if (settled) {
      for (let i = 0; i < missing.lookup.length; i += 100) {
        const batch = missing.lookup.slice(i, i + 100);
        try {
          const answers = await lookUp(source, batch, abort.signal);
          counts.lookups++;
          const outcome = resolveLookups(batch, answers, { seen: dedupe.released });
          const found = [...outcome.recovered, ...outcome.discovered];
          counts.recovered += outcome.recovered.length;
          await emit(see(found, now()));
          for (const id of outcome.ended) {
            tombstoned.add(id);
            counts.ended++;
            records.push(tombstoneRecord(id, { scanId, at: now(), reason: "ended" }));
          }
        } catch (e) {
          // An unanswered look-up proves nothing: keep those streams as they were.
          unresolved.push(...batch);
          result = "failed";
          error = `look-up of missing streams failed: ${(e as Error).message}`;
        }
      }
    }
    if (records.length > 0) await sink.write(records).catch(() => {});
  }

  try {
    await sink.flush();
  } catch (e) {
    result = "failed";
    error = `producing to Kafka failed: ${(e as Error).message}`;
  }
  const done = now();
  options.signal?.removeEventListener("abort", stop);

  let state: LiveState | null = null;
  if (options.previous !== null) {
    for (const m of unresolved) observed.set(m.id, options.previous.get(m.id)!);
    state = nextState(options.previous, { observed, removed: tombstoned, complete: settled });
  }
  return {
    summary: {
      scanId,
      result,
      error,
      ...counts,
      distinct: counts.streams - dedupe.counts.duplicates,
      duplicates: dedupe.counts.duplicates,
      lateDuplicates: dedupe.counts.lateDuplicates,
      durationMs: done - started,
      drainMs: Math.max(0, done - lastPageAt),
      rateLimitRemaining: source.rateLimitRemaining(),
      settled,
    },
    state,
  };
}

class ScanAborted extends Error {}

/** One stream as a scan holds it: its record, ready to send, and what later scans need. */
interface Seen {
  id: string;
  record: StreamRecord;
  live: LiveStream;
}

/** Looks up the live streams of up to 100 users in one request. */
async function lookUp(
  source: StreamSource,
  batch: Missing[],
  signal: AbortSignal,
): Promise<HelixStream[]> {
  const userIds = [...new Set(batch.map((m) => m.userId))];
  const page = await source.fetchPage({ user_id: userIds }, { first: 100, signal });
  return page.streams;
}

/**
 * Runs `fn` over `items` with at most `limit` at once; the first failure
 * stops new work and is thrown once the running ones have settled.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  async function worker() {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
