/**
 * The service's own log lines about scans and delivery: one summary line a
 * scan, why a scan failed in one line, the producer's settings once at
 * start-up, and the schedule's fit.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/config.ts";
import type { ScanFailure, ScanSummary } from "../scan/scan.ts";
import { DELIVERY } from "../kafka/client.ts";
import type { CadenceNotice } from "../ops/schedule.ts";

const log = getLogger(["datagen", "service"]);

/** Logs a scan's one summary line; `sink` names where records go ("Kafka", or "stdout"). */
export function logScan(summary: ScanSummary, sink = "Kafka"): void {
  const { scanId, result, failure, ...numbers } = summary;
  const error = failure === undefined ? undefined : describeFailure(failure, sink);
  const properties = {
    scanId,
    result,
    ...numbers,
    // A server that sends no Ratelimit headers leaves the budget unknown.
    rateLimitRemaining: numbers.rateLimitRemaining ?? "unknown",
    ...(failure ? { stage: failure.stage, error } : {}),
  };
  if (result === "ok") {
    log.info(
      "Scan ok: {distinct} streams on {pages} pages, {duplicates} duplicates dropped, {records} records, {ended} ended, {expired} expired, {deselected} deselected, {recovered} recovered in {durationMs} ms; {points} rate-limit points (at least {rateBoundMs} ms at the rate limit), {rateLimitRemaining} left",
      properties,
    );
  } else {
    log.error(`Scan ${result}: {error}`, properties);
  }
}

/** One line saying why a scan did not succeed. */
export function describeFailure(failure: ScanFailure, sink = "Kafka"): string {
  switch (failure.stage) {
    case "kafka":
      return sink === "Kafka"
        ? `producing to Kafka failed: ${failure.message}`
        : `writing to ${sink} failed: ${failure.message}`;
    case "lookup":
      return `look-up of missing streams failed: ${failure.message}`;
    case "aborted":
      // "shutting down", or why a term of leadership ended.
      return failure.message;
    default:
      return failure.message;
  }
}

/** Logs the producer's delivery settings, once at start-up. */
export function logDelivery(config: Config): void {
  log.info(
    "Producing to {topic} on {brokers}: idempotent={idempotent}, acks=all, maxInFlight={maxInFlight}, retries={retries}, compression={compression}",
    {
      topic: config.kafka.topic,
      brokers: config.kafka.brokers.join(","),
      idempotent: DELIVERY.idempotent,
      maxInFlight: DELIVERY.maxInFlightRequests,
      retries: DELIVERY.retries,
      compression: DELIVERY.compression,
    },
  );
}

/** Logs that scans stopped (or started again) fitting the schedule. */
export function logCadence(notice: CadenceNotice, schedule: string, points: number | null): void {
  if (notice.kind === "fits") {
    log.info("Scans fit the schedule {schedule} again", { schedule });
    return;
  }
  log.warn(
    "Scans no longer fit the schedule {schedule}: a full scan takes about {cadenceSeconds} s ({points} rate-limit points), so scans run back to back, one every {cadenceSeconds} s",
    { schedule, cadenceSeconds: Math.round(notice.cadenceMs / 1000), points },
  );
}
