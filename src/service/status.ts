/**
 * What `/readyz` is decided from: whether the broker answers (probed between
 * scans), when the last scan succeeded and how long it took, and, with
 * HA=on, the instance's role.
 *
 * @module
 */

import type { KafkaConfig } from "kafkajs";
import type { Config } from "../config/config.ts";
import { createKafka } from "../kafka/client.ts";
import { roleReadiness } from "../kafka/leader.ts";
import type { Role } from "../kafka/leader.ts";
import type { Metrics } from "../ops/metrics.ts";
import { type Readiness, readiness } from "../ops/readiness.ts";

/** How often the broker is probed between scans (readiness). */
export const PROBE_INTERVAL_MS = 10_000;

/** The service's state as readiness sees it. */
export interface ServiceStatus {
  brokerReachable: boolean;
  lastSuccessAt: number | null;
  lastScanMs: number | null;
}

/** Nothing known yet: not reachable, no scan. */
export function createStatus(): ServiceStatus {
  return { brokerReachable: false, lastSuccessAt: null, lastScanMs: null };
}

/** Records whether the broker answers, in the status and the `kafka_up` gauge. */
export function setBrokerReachable(status: ServiceStatus, metrics: Metrics, up: boolean): void {
  status.brokerReachable = up;
  metrics.kafkaUp.set(up ? 1 : 0);
}

/** What `/readyz` answers now; `role` is the election's (HA=on), or null (HA=off, or not joined). */
export function serviceReadiness(
  status: ServiceStatus,
  options: {
    schedule: Config["schedule"];
    now: number;
    role: Role | null;
    /** Why the instance is out of the election's group for too long (HA=on), or null. */
    outOfGroup?: string | null;
  },
): Readiness {
  const verdict = readiness({ ...status, schedule: options.schedule, now: options.now });
  return options.role === null
    ? verdict
    : roleReadiness(options.role, status.brokerReachable, verdict, options.outOfGroup ?? null);
}

/** A broker probe for readiness that fails fast (no retries) and never overlaps itself. */
export function createProbe(
  kafkaConfig: KafkaConfig,
  report: (up: boolean, error?: string) => void,
): () => void {
  const kafka = createKafka({
    ...kafkaConfig,
    clientId: `${kafkaConfig.clientId ?? "twitch-datagen"}-probe`,
    retry: { retries: 0 },
    connectionTimeout: 3000,
    requestTimeout: 5000,
  });
  let busy = false;
  return () => {
    if (busy) return;
    busy = true;
    const admin = kafka.admin();
    admin.connect()
      .then(() => admin.describeCluster())
      .then(() => report(true), (error) => report(false, (error as Error).message))
      .finally(() => {
        busy = false;
        admin.disconnect().catch(() => {});
      });
  };
}
