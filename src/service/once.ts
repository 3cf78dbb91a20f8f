/**
 * The two modes that run one scan and exit: `--dry-run` prints its records,
 * `--once` produces them to Kafka.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { KafkaConfig } from "kafkajs";
import { createBatcher } from "../scan/batcher.ts";
import type { StreamRecord } from "../scan/record.ts";
import { recordScan } from "../ops/metrics.ts";
import type { KafkaSession } from "../kafka/session.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import {
  auditOnce,
  learnLanguages,
  openKafka,
  runOneScan,
  type ServiceContext,
} from "./context.ts";
import { logDelivery, logScan } from "./report.ts";

const log = getLogger(["datagen", "service"]);

/** `--dry-run`: one scan, records printed as JSON lines on stdout; no broker. */
export async function dryRun(context: ServiceContext): Promise<number> {
  // A reader that has read enough (`| head -3`) closes the pipe: stop quietly, that is success.
  const closed = new AbortController();
  const sink = createBatcher((batch) => printBatch(batch, closed));
  const audit = auditOnce(context.config);
  const outcome = await runOneScan(context, {
    sink,
    previous: null,
    signal: closed.signal,
    audit: audit !== null,
  });
  if (audit !== null) learnLanguages(audit, outcome, context.metrics);
  const { summary } = outcome;
  if (closed.signal.aborted) {
    log.debug("Stopped: stdout was closed");
    return 0;
  }
  logScan(summary, "stdout");
  return summary.result === "ok" ? 0 : 1;
}

const encoder = new TextEncoder();

/** Writes a batch as JSON lines on stdout; a closed pipe aborts `closed`. */
async function printBatch(
  batch: readonly StreamRecord[],
  closed: AbortController,
): Promise<void> {
  if (closed.signal.aborted) return;
  const text = batch.map((r) =>
    JSON.stringify({
      key: r.key,
      value: r.value === null ? null : JSON.parse(r.value),
      timestamp: r.timestamp,
      headers: r.headers,
    }) + "\n"
  ).join("");
  const bytes = encoder.encode(text);
  try {
    let written = 0;
    while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    closed.abort();
  }
}

/** `--once`: one scan produced to Kafka; exit 0 when every record is acknowledged. */
export async function runOnce(context: ServiceContext, kafkaConfig: KafkaConfig): Promise<number> {
  logDelivery(context.config);
  let session: KafkaSession;
  try {
    session = await openKafka(context.config, kafkaConfig);
  } catch (error) {
    log.error("Cannot use Kafka: {error}", { error: describeKafkaError(error, context.config) });
    return 1;
  }
  try {
    const sink = createBatcher(session.delivery.send);
    const audit = auditOnce(context.config);
    const outcome = await runOneScan(context, {
      sink,
      previous: session.state,
      audit: audit !== null,
    });
    if (audit !== null) learnLanguages(audit, outcome, context.metrics);
    const { summary } = outcome;
    recordScan(context.metrics, summary, Date.now());
    logScan(summary);
    return summary.result === "ok" ? 0 : 1;
  } finally {
    await session.delivery.close();
  }
}
