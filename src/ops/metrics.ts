/**
 * Prometheus metrics (prom-client), on a registry of the service's own.
 *
 * @module
 */

import client from "prom-client";
import { SCAN_END_REASONS } from "../scan/record.ts";
import type { ScanSummary } from "../scan/scan.ts";

/** The service's metrics and the registry that serves them. */
/** A counter without labels whose total is readable at once (prom-client's `get()` is async). */
export type TalliedCounter = client.Counter & { taken(): number };

/** Keeps a running total beside `counter`'s own. */
function tallied(counter: client.Counter): TalliedCounter {
  let total = 0;
  const inc = counter.inc.bind(counter);
  return Object.assign(counter, {
    inc(value?: number) {
      total += value ?? 1;
      inc(value);
    },
    taken: () => total,
  }) as TalliedCounter;
}

export interface Metrics {
  registry: client.Registry;
  scans: client.Counter<"result">;
  scanDuration: client.Histogram;
  streamsSeen: client.Gauge;
  liveStreams: client.Gauge;
  records: client.Counter;
  tombstones: client.Counter<"reason">;
  recovered: client.Counter;
  duplicates: client.Counter;
  helixRequests: client.Counter<"status">;
  rateLimitRemaining: client.Gauge;
  rateLimitWaits: client.Counter;
  scanPoints: client.Gauge;
  scanRateBound: client.Gauge;
  projectedScan: client.Gauge;
  lastSuccess: client.Gauge;
  kafkaUp: client.Gauge;
  unlistedLanguages: client.Counter;
  eventsubEvents: client.Counter<"type">;
  eventsubLatency: client.Histogram<"type">;
  eventsubConnected: client.Gauge;
  /** Also readable at once with `taken()`: a scan's own points are the bucket's less these. */
  eventsubPoints: TalliedCounter;
  eventsubChannels: client.Gauge;
  eventsubCost: client.Gauge<"kind">;
  eventsubCoverage: client.Gauge;
  leader: client.Gauge;
}

/** Creates the metrics on a new registry. */
export function createMetrics(): Metrics {
  const registry = new client.Registry();
  const registers = [registry];
  const m: Metrics = {
    registry,
    scans: new client.Counter({
      name: "datagen_scans_total",
      help: "Scans by result (ok, failed, aborted).",
      labelNames: ["result"],
      registers,
    }),
    scanDuration: new client.Histogram({
      name: "datagen_scan_duration_seconds",
      help: "Wall time of a scan, first request to last acknowledgement.",
      buckets: [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300],
      registers,
    }),
    streamsSeen: new client.Gauge({
      name: "datagen_streams_seen",
      help: "Distinct live streams the last scan's pages listed.",
      registers,
    }),
    liveStreams: new client.Gauge({
      name: "datagen_live_streams",
      help: "Streams the topic holds as live after the last scan.",
      registers,
    }),
    records: new client.Counter({
      name: "datagen_records_produced_total",
      help: "Stream records (with a value) acknowledged by Kafka.",
      registers,
    }),
    tombstones: new client.Counter({
      name: "datagen_tombstones_total",
      help: "Tombstones acknowledged, by reason (ended, expired, deselected).",
      labelNames: ["reason"],
      registers,
    }),
    recovered: new client.Counter({
      name: "datagen_recovered_total",
      help: "Streams missed by paging and found live by look-up.",
      registers,
    }),
    duplicates: new client.Counter({
      name: "datagen_duplicates_total",
      help: "Stream observations dropped as duplicates within a scan.",
      registers,
    }),
    helixRequests: new client.Counter({
      name: "datagen_helix_requests_total",
      help: "Helix requests by final HTTP status.",
      labelNames: ["status"],
      registers,
    }),
    rateLimitRemaining: new client.Gauge({
      name: "datagen_helix_ratelimit_remaining",
      help: "Helix rate-limit points left, as last reported.",
      registers,
    }),
    rateLimitWaits: new client.Counter({
      name: "datagen_helix_ratelimit_waits_total",
      help: "Requests that waited for a Helix rate-limit point.",
      registers,
    }),
    scanPoints: new client.Gauge({
      name: "datagen_scan_ratelimit_points",
      help: "Helix rate-limit points the last scan paid.",
      registers,
    }),
    scanRateBound: new client.Gauge({
      name: "datagen_scan_rate_bound_seconds",
      help: "Lower bound on the last scan's duration: its points at the rate limit's refill rate.",
      registers,
    }),
    projectedScan: new client.Gauge({
      name: "datagen_scan_projected_seconds",
      help:
        "Projected time of a full scan: the last successful scan's duration or its rate bound, the longer.",
      registers,
    }),
    lastSuccess: new client.Gauge({
      name: "datagen_last_success_timestamp_seconds",
      help: "Unix time at which the last successful scan finished.",
      registers,
    }),
    kafkaUp: new client.Gauge({
      name: "datagen_kafka_up",
      help: "1 while the broker answered the last probe, else 0.",
      registers,
    }),
    unlistedLanguages: new client.Counter({
      name: "datagen_unlisted_languages_total",
      help: "Languages that audits found outside the language split (they join it).",
      registers,
    }),
    eventsubEvents: new client.Counter({
      name: "datagen_eventsub_messages_total",
      help: "EventSub notifications and revocations received, by type.",
      labelNames: ["type"],
      registers,
    }),
    eventsubLatency: new client.Histogram({
      name: "datagen_eventsub_latency_seconds",
      help: "From an EventSub event's timestamp to Kafka's acknowledgement of its record.",
      labelNames: ["type"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    }),
    eventsubConnected: new client.Gauge({
      name: "datagen_eventsub_connected",
      help: "EventSub conduit shards assigned to a live session of this instance.",
      registers,
    }),
    eventsubPoints: tallied(
      new client.Counter({
        name: "datagen_eventsub_points_total",
        help: "Rate-limit points EventSub calls took (conduits, subscriptions, look-ups).",
        registers,
      }),
    ),
    eventsubChannels: new client.Gauge({
      name: "datagen_eventsub_channels",
      help: "Channels with stream.online and stream.offline subscribed on the conduit.",
      registers,
    }),
    eventsubCost: new client.Gauge({
      name: "datagen_eventsub_cost",
      help: "Twitch's total_cost and max_total_cost of the client id's subscriptions.",
      labelNames: ["kind"],
      registers,
    }),
    eventsubCoverage: new client.Gauge({
      name: "datagen_eventsub_coverage_ratio",
      help: "Share of live viewers in channels subscribed on the conduit (real-time coverage).",
      registers,
    }),
    leader: new client.Gauge({
      name: "datagen_leader",
      help: "1 while this instance leads (scans and produces), 0 while it stands by.",
      registers,
    }),
  };
  m.scans.inc({ result: "ok" }, 0);
  m.scans.inc({ result: "failed" }, 0);
  return m;
}

/**
 * How long a full scan takes when scans run back to back: its duration, or
 * the time its points take to refill, whichever is longer (a scan that
 * started on a full bucket was faster than the next can be).
 */
export function projectedScanMs(summary: Pick<ScanSummary, "durationMs" | "rateBoundMs">): number {
  return Math.max(summary.durationMs, summary.rateBoundMs ?? 0);
}

/** Adds one scan's numbers to the metrics. */
export function recordScan(metrics: Metrics, summary: ScanSummary, finishedAt: number): void {
  metrics.scans.inc({ result: summary.result });
  metrics.scanDuration.observe(summary.durationMs / 1000);
  metrics.streamsSeen.set(summary.distinct);
  if (summary.result === "ok") {
    metrics.records.inc(summary.records);
    metrics.lastSuccess.set(finishedAt / 1000);
    metrics.projectedScan.set(projectedScanMs(summary) / 1000);
  }
  if (summary.points !== null) metrics.scanPoints.set(summary.points);
  if (summary.rateBoundMs !== null) metrics.scanRateBound.set(summary.rateBoundMs / 1000);
  for (const reason of SCAN_END_REASONS) metrics.tombstones.inc({ reason }, summary[reason]);
  metrics.recovered.inc(summary.recovered);
  metrics.duplicates.inc(summary.duplicates);
  if (summary.rateLimitRemaining !== null) {
    metrics.rateLimitRemaining.set(summary.rateLimitRemaining);
  }
}
