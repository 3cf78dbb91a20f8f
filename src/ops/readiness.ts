/**
 * When the service is ready: the broker answers, and a scan succeeded
 * recently: within two schedule periods, or, when scans take longer than
 * that allows (they then run back to back), within twice the last scan's
 * duration plus a minute. A window of fixed periods alone would flip
 * between ready and not ready around it. Pure.
 *
 * @module
 */

import { type CronSchedule, nextCronRun } from "../config/cron.ts";

/** What readiness is decided from. */
export interface ReadinessInput {
  brokerReachable: boolean;
  /** When the last successful scan finished, in milliseconds since the epoch. */
  lastSuccessAt: number | null;
  /** How long the last successful scan took, in milliseconds. */
  lastScanMs?: number | null;
  schedule: CronSchedule;
  now: number;
}

/** The verdict, with a short reason when not ready. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

/** The length of the schedule's period that follows `time` (one minute for `* * * * *`). */
export function schedulePeriod(schedule: CronSchedule, time: number): number {
  const first = nextCronRun(schedule, new Date(time));
  const second = first && nextCronRun(schedule, first);
  return first && second ? second.getTime() - first.getTime() : Infinity;
}

/** How long after a successful scan the service stays ready without another. */
export function readinessWindow(
  input: Pick<ReadinessInput, "schedule" | "lastScanMs">,
  time: number,
): number {
  const period = schedulePeriod(input.schedule, time);
  return Math.max(2 * period, 2 * (input.lastScanMs ?? 0) + 60_000);
}

/** Decides readiness. */
export function readiness(input: ReadinessInput): Readiness {
  if (!input.brokerReachable) return { ready: false, reason: "Kafka broker unreachable" };
  if (input.lastSuccessAt === null) return { ready: false, reason: "no successful scan yet" };
  const window = readinessWindow(input, input.lastSuccessAt);
  if (input.now - input.lastSuccessAt > window) {
    return {
      ready: false,
      reason: `no successful scan within ${Math.round(window / 1000)} s`,
    };
  }
  return { ready: true, reason: "ok" };
}
