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

import { getLogger } from "@logtape/logtape";
import { HelixError, type HelixQuery, type StreamPage } from "../helix/client.ts";
import { sleep } from "../util/retry.ts";
import { LaneTrail, pageBound, pagesAllowed } from "./paging.ts";
import { runPool } from "./pool.ts";
import { nextState } from "./endings.ts";
import type { LiveSet } from "./live_set.ts";
import type { EndReason } from "./record.ts";
import {
  classify,
  createScanState,
  fail,
  produce,
  type ScanFailure,
  type ScanOptions,
  type ScanState,
  see,
  SinkFailure,
} from "./state.ts";
import { settleMissing } from "./settle.ts";

export type { ScanFailure, ScanOptions, ScanStage } from "./state.ts";

const log = getLogger(["datagen", "scan"]);

/** Asks of one cursor that Helix called invalid, before the lane starts again from page 1. */
const BAD_CURSOR_ATTEMPTS = 3;
/** Times a lane may start again from page 1 after a cursor Helix kept refusing. */
const LANE_RESTARTS = 2;

/** How a scan's lanes page: the bound on pages, and whether a loop was logged yet. */
interface Paging {
  /** The bound from the streams expected; it grows with the distinct streams found. */
  bound: number;
  readonly lanes: number;
  loopLogged: boolean;
}

/** How a scan ended. */
export type ScanResult = "ok" | "failed" | "aborted";

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
  /** Streams a page listed that a newer EventSub event had ended: not written. */
  superseded: number;
  durationMs: number;
  /** Milliseconds from the last page's arrival to the last acknowledgement. */
  drainMs: number;
  rateLimitRemaining: number | null;
  /** Rate-limit points this scan paid (null: the source has no rate limit). */
  points: number | null;
  /** The shortest time those points take at the rate limit's refill rate, in milliseconds. */
  rateBoundMs: number | null;
  /** Whether every missing stream was settled (a complete scan with a known state). */
  settled: boolean;
}

/** A finished scan: its numbers and the state that follows it. */
export interface ScanOutcome {
  summary: ScanSummary;
  state: LiveSet | null;
  /** The ids whose tombstones Kafka acknowledged in this scan. */
  tombstoned: ReadonlySet<string>;
  /** Every language the listing pages showed. */
  languages: ReadonlySet<string>;
}

/** Runs one scan. Never throws: failures are reported in the summary. */
export async function runScan(options: ScanOptions): Promise<ScanOutcome> {
  const state = createScanState(options);
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
  const { plan, concurrency, previous } = state.options;
  const paging: Paging = {
    bound: pageBound({ expected: previous?.size ?? 0, lanes: plan.queries.length }),
    lanes: plan.queries.length,
    loopLogged: false,
  };
  try {
    await runPool(
      plan.queries,
      concurrency,
      (query, index) =>
        fetchQuery(state, index, query, paging).catch((error) => {
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

async function fetchQuery(
  state: ScanState,
  index: number,
  query: HelixQuery,
  paging: Paging,
): Promise<void> {
  const { maxStreams } = state.options;
  const { counts, dedupe } = state;
  const trail = new LaneTrail();
  let cursor: string | undefined;
  let restarts = 0;
  for (;;) {
    if (state.abort.signal.aborted) throw new Error("the scan was stopped");
    const distinct = counts.streams - dedupe.counts.duplicates;
    paging.bound = pagesAllowed({ bound: paging.bound, distinct, lanes: paging.lanes });
    if (counts.pages >= paging.bound) {
      throw new Error(
        `Helix kept answering pages past ${paging.bound}, more than the streams expected allow; the scan stopped there`,
      );
    }
    let first = 100;
    if (maxStreams !== undefined) {
      const left = maxStreams - (counts.streams - dedupe.counts.duplicates);
      if (left <= 0) {
        state.restricted = true;
        break;
      }
      first = Math.min(first, left);
    }
    const page = await fetchWithCursor(state, index, query, { cursor, first });
    if (page === "restart") {
      if (++restarts > LANE_RESTARTS) {
        throw new Error("Helix refused the cursor of this lane again and again (invalid cursor)");
      }
      trail.restart();
      cursor = undefined;
      continue;
    }
    counts.pages++;
    const loop = trail.loopsBack(page.streams);
    if (loop !== null) {
      logLoop(paging, index, loop);
      break;
    }
    counts.streams += page.streams.length;
    for (const s of page.streams) {
      state.lowestViewers = Math.min(state.lowestViewers, s.viewer_count);
      state.languages.add(s.language);
    }
    state.lastPageAt = Math.max(state.lastPageAt, page.fetchedAt);
    await produce(state, dedupe.add(index, see(state, page.streams, page.fetchedAt)));
    cursor = page.cursor;
    if (cursor === undefined) break;
    if (trail.seenCursor(cursor)) {
      logLoop(paging, index, "cursor came back");
      break;
    }
  }
  await produce(state, dedupe.finish(index));
}

/**
 * One page of a lane. Helix sometimes calls a good cursor invalid (400): ask again a few times,
 * then tell the lane to start again from page 1 ("restart") instead of failing the scan.
 */
async function fetchWithCursor(
  state: ScanState,
  lane: number,
  query: HelixQuery,
  options: { cursor?: string; first: number },
): Promise<StreamPage | "restart"> {
  for (let attempt = 1;; attempt++) {
    try {
      return await state.options.source.fetchPage(query, {
        ...options,
        signal: state.abort.signal,
        lane,
      });
    } catch (error) {
      const refused = error instanceof HelixError && error.status === 400;
      if (!refused || options.cursor === undefined) throw error;
      if (attempt >= BAD_CURSOR_ATTEMPTS) return "restart";
      await sleep(state.options.cursorRetryMs ?? 250, state.abort.signal);
    }
  }
}

/** Logs, once per scan, that a lane came back to ground it had covered. */
function logLoop(paging: Paging, lane: number, sign: string): void {
  if (paging.loopLogged) return;
  paging.loopLogged = true;
  log.debug("A lane's pages came back to where they started ({sign}); the lane ends there", {
    sign,
    lane,
  });
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

  let next: LiveSet | null = null;
  const previous = options.previous;
  if (previous !== null) {
    // A complete scan's observed set becomes the next state itself (no copy).
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
  const budget = options.source.budget?.();
  const points = budget === undefined || state.spentBefore === null
    ? null
    : Math.max(0, budget.spent - state.spentBefore);
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
      points,
      rateBoundMs: points === null ? null : Math.round((points * 60_000) / budget!.perMinute),
      settled: state.settled,
    },
    state: next,
    tombstoned: new Set(acknowledged ? state.tombstones.keys() : []),
    languages: state.languages,
  };
}

function countReasons(tombstones: ReadonlyMap<string, EndReason>, reason: EndReason): number {
  let n = 0;
  for (const r of tombstones.values()) if (r === reason) n++;
  return n;
}
