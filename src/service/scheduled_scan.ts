/**
 * One scheduled scan, wired to the service: it scans with the current
 * session (its live set as `previous`), then keeps the state that follows,
 * records metrics and readiness, logs its one line, steps down when the
 * producer was fenced, and ends the process when the producer failed for
 * good.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/config.ts";
import { createBatcher } from "../scan/batcher.ts";
import type { LanguageAudit } from "../scan/audit.ts";
import type { ScanOutcome, ScanSummary } from "../scan/scan.ts";
import { NEW_SESSIONS } from "../kafka/delivery.ts";
import { transactionalId } from "../kafka/leader.ts";
import { type Metrics, projectedScanMs, recordScan } from "../ops/metrics.ts";
import type { WatchLedger } from "../eventsub/mod.ts";
import { learnLanguages, type OneScanOptions, type ScanSession } from "./context.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { logScan } from "./report.ts";
import type { ScanTarget } from "./scheduler.ts";
import { type ServiceStatus, setBrokerReachable } from "./status.ts";
import type { LiveState } from "../scan/endings.ts";
import { guardedFeed, type PageFeed } from "./page.ts";
import { endedDuringScan, type HandOver, withEvents } from "./watch.ts";
import { tombstoneRecord } from "../scan/record.ts";

const log = getLogger(["datagen", "service"]);

/** The edges of {@link createScanner}. */
export interface ScannerOptions {
  config: Config;
  metrics: Metrics;
  status: ServiceStatus;
  lifecycle: Lifecycle;
  /** What EventSub saw (empty without a watchlist). */
  ledger: WatchLedger;
  /** The watchlist's hand-over: what events produce while a scan runs joins its next state. */
  events?: Pick<HandOver, "note">;
  audit: LanguageAudit;
  /** The status page: acknowledged records, each scan's end, the broker's state. */
  page?: PageFeed;
  /** Called with what each scan observed (EventSub's channels move with the scan's ranking). */
  afterScan?(state: LiveState): void;
  /** Runs one scan (`runOneScan` with the service's context). */
  run(options: OneScanOptions): Promise<ScanOutcome>;
  /** The producer was fenced: step down (HA=on; nothing with HA=off). */
  stepDown(): void;
  now(): number;
}

/** The scans of the service, and what the last one measured. */
export interface Scanner {
  /** One scan with a session; never rejects. Past the grace period of a stop, `stop` aborts it. */
  scan(target: ScanTarget<ScanSession>): Promise<void>;
  /** Stops the running scan's fetching (past the grace period of a stop). */
  stop(): void;
  /** How long a scan back to back takes, as the last scan projects it (0 before the first). */
  projectedScanMs(): number;
  /** The rate-limit points of the last scan. */
  lastPoints(): number | null;
}

/** Creates the scans of the service. */
export function createScanner(options: ScannerOptions): Scanner {
  const { metrics, lifecycle, audit } = options;
  const page = options.page && guardedFeed(options.page);
  options = { ...options, page };
  const stopped = new AbortController();
  let scans = 0;
  let lastProjectedMs = 0;
  let lastPoints: number | null = null;
  return {
    async scan({ session: current, signal: termSignal }) {
      const startedAt = options.now();
      // The start-up scan is never an audit, so that it stays fast.
      const auditing = audit.due(startedAt, { startup: scans++ === 0 });
      const noted = options.events?.note(current);
      // Noting ends with the scan, even one that crashed.
      const outcome = await options.run({
        // A record that waited in the batcher while a newer event ended its broadcast is
        // dropped as it is handed over (the event's tombstone went first).
        sink: createBatcher((batch) => {
          const sent = options.ledger.unsuperseded(batch);
          return current.delivery.send(sent).then(() => page?.acknowledged(sent));
        }),
        previous: current.state,
        signal: termSignal ? AbortSignal.any([stopped.signal, termSignal]) : stopped.signal,
        audit: auditing,
        extraLanguages: audit.extraLanguages,
        events: options.ledger,
      }).finally(() => noted?.end());
      const { summary, state } = outcome;
      const events = noted?.end();
      learnLanguages(audit, outcome, metrics);
      if (auditing) audit.done(startedAt, summary.result === "ok");
      if (state !== null) {
        options.afterScan?.(state);
        current.state = events === undefined
          ? state
          : withEvents(state, events, outcome.tombstoned);
        if (events !== undefined) await endOfflineDuringScan(options, current, startedAt);
      }
      lastProjectedMs = projectedScanMs(summary);
      lastPoints = summary.points;
      record(options, current, summary);
      // A scan stopped because its term of leadership ended says so, not "shutting down".
      logScan(termEnded(summary, termSignal, lifecycle.signal));
      // Fenced: another instance leads now. Not a fault of the producer: step down, stand by.
      if (current.delivery.lostLeadership) options.stepDown();
      failIfBroken(options, current);
    },
    stop: () => stopped.abort(),
    projectedScanMs: () => lastProjectedMs,
    lastPoints: () => lastPoints,
  };
}

/**
 * Tombstones the streams of channels that went offline while the scan ran and that the scan
 * brought into its next state (see `endedDuringScan`). Without it they waited for the next scan.
 * A failed send leaves them to that scan.
 */
async function endOfflineDuringScan(
  options: ScannerOptions,
  current: ScanSession,
  startedAt: number,
): Promise<void> {
  const { ledger, metrics } = options;
  const ids = endedDuringScan(current.state, ledger.offlineSince(startedAt));
  if (ids.length === 0) return;
  const at = options.now();
  ledger.end(ids, at);
  const records = ids.map((id) =>
    tombstoneRecord(id, { scanId: "eventsub", at, reason: "offline" })
  );
  try {
    await current.delivery.send(records);
  } catch (error) {
    log.warn(
      "Tombstones of {count} streams that ended during the scan not written ({error}); the next scan ends them",
      {
        count: ids.length,
        error: (error as Error).message,
      },
    );
    return;
  }
  for (const id of ids) current.state.delete(id);
  metrics.tombstones.inc({ reason: "offline" }, ids.length);
  options.page?.acknowledged(records, true);
}

/** Metrics and readiness after a scan. */
function record(options: ScannerOptions, current: ScanSession, summary: ScanSummary): void {
  const { metrics, status } = options;
  const finishedAt = options.now();
  recordScan(metrics, summary, finishedAt);
  options.page?.scanned(summary, finishedAt);
  metrics.liveStreams.set(current.state.size);
  if (summary.result === "ok") {
    status.lastSuccessAt = finishedAt;
    status.lastScanMs = summary.durationMs;
  }
  // A fenced producer reached the broker: that is no outage.
  if (summary.failure?.stage === "kafka" && !current.delivery.lostLeadership) {
    setBrokerReachable(status, metrics, false);
    options.page?.kafka(false, summary.failure.message);
  }
}

/** The summary as logged: a scan its term's end stopped says so. */
function termEnded(
  summary: ScanSummary,
  termSignal: AbortSignal | undefined,
  shutdown: AbortSignal,
): ScanSummary {
  return termSignal?.aborted && !shutdown.aborted && summary.failure?.stage === "aborted"
    ? {
      ...summary,
      failure: { stage: "aborted", message: "stepping down: another instance leads" },
    }
    : summary;
}

/** A producer that failed for good ends the process with exit code 1 (once). */
function failIfBroken(options: ScannerOptions, current: ScanSession): void {
  const { lifecycle, config } = options;
  const broken = current.delivery.fatal;
  if (broken === null || lifecycle.fatal !== null) return;
  lifecycle.fail(`the Kafka producer cannot go on: ${broken.kind} (${broken.message})`);
  options.metrics.kafkaUp.set(0);
  log.error(
    "Stopping with exit code 1: the Kafka producer failed with {kind}, and up to {sessions} new producer sessions did not cure it ({error}); {hint}",
    {
      kind: broken.kind,
      error: broken.message,
      sessions: NEW_SESSIONS,
      hint: broken.kind === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
        ? `grant the service's user Write and Describe on transactional id ${
          transactionalId(config.kafka.topic)
        }, or set HA=off`
        : broken.kind.endsWith("AUTHORIZATION_FAILED")
        ? `grant the service's user Write and Describe on topic ${config.kafka.topic}`
        : "a restart starts afresh",
    },
  );
  lifecycle.halt();
}
