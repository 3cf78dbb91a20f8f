/**
 * What every mode of the service shares: its context (configuration, Helix
 * source, metrics), one scan run with the configured plan, what an audit
 * learns, and the Kafka session of HA=off.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { KafkaConfig } from "kafkajs";
import type { Config } from "../config/config.ts";
import type { StreamSource } from "../helix/client.ts";
import type { RecordSink } from "../scan/batcher.ts";
import { planScan, splitsByLanguage } from "../scan/plan.ts";
import { runScan, type ScanOutcome } from "../scan/scan.ts";
import { LanguageAudit } from "../scan/audit.ts";
import type { LiveState } from "../scan/endings.ts";
import { createKafka, kafkaDelivery } from "../kafka/client.ts";
import { type KafkaSession, openSession, prepareTopics } from "../kafka/session.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { WatchLedger } from "../eventsub/mod.ts";
import type { EventSubApi } from "../eventsub/twitch.ts";

const log = getLogger(["datagen", "service"]);

/** What every mode needs. */
export interface ServiceContext {
  config: Config;
  source: StreamSource;
  metrics: Metrics;
  /** The watchlist's EventSub server and Helix edge (scheduled service only). */
  eventsub?: { url: string; api: EventSubApi; shards: number };
}

/** What a scheduled scan and the watchlist use of a session: its delivery and its live set. */
export type ScanSession = Pick<KafkaSession, "delivery" | "state">;

/** What one scan of the service is given besides the context. */
export interface OneScanOptions {
  sink: RecordSink;
  previous: LiveState | null;
  signal?: AbortSignal;
  /** Page unsplit (an audit). */
  audit?: boolean;
  extraLanguages?: readonly string[];
  /** What EventSub saw: newer events overrule older pages. */
  events?: WatchLedger;
}

/** Runs one scan with the configured filters, plan and concurrency. */
export function runOneScan(context: ServiceContext, options: OneScanOptions): Promise<ScanOutcome> {
  const { config } = context;
  if (options.audit) log.info("Audit scan: paging unsplit to find languages outside the split");
  return runScan({
    source: context.source,
    sink: options.sink,
    plan: planScan(config.filters, config.scan.mode, {
      audit: options.audit,
      extraLanguages: options.extraLanguages,
    }),
    previous: options.previous,
    scanId: crypto.randomUUID(),
    concurrency: config.scan.concurrency,
    maxStreams: config.filters.maxStreams,
    selection: config.filters,
    signal: options.signal,
    events: options.events,
    holdYoungMs: config.scan.cacheHorizonMs || undefined,
  });
}

/** Whether the one scan of `--once` or `--dry-run` is an audit. */
export function auditOnce(config: Config): LanguageAudit | null {
  return config.audit && splitsByLanguage(config.filters, config.scan.mode)
    ? new LanguageAudit(0)
    : null;
}

/** Adds what an audit found to the split; each new language is logged once and counted. */
export function learnLanguages(
  audit: LanguageAudit,
  outcome: ScanOutcome,
  metrics: Metrics,
): void {
  for (const language of audit.learn(outcome.languages)) {
    metrics.unlistedLanguages.inc();
    log.warn(
      "Found live streams in language {language}, outside the language split; it joins the split from now on",
      { language },
    );
  }
}

/** HA=off: prepares the topics and opens the one producer session, its live set rebuilt. */
export async function openKafka(config: Config, kafkaConfig: KafkaConfig): Promise<KafkaSession> {
  const kafka = createKafka(kafkaConfig);
  await prepareTopics(config, kafka);
  return await openSession(config, kafka, kafkaDelivery(kafka, config.kafka.topic));
}
