/**
 * When the service is ready: the broker answers, and a scan succeeded
 * within the last two schedule periods. Pure.
 *
 * @module
 */

import { type CronSchedule, nextCronRun } from "../config/cron.ts";

/** What readiness is decided from. */
export interface ReadinessInput {
  brokerReachable: boolean;
  /** When the last successful scan finished, in milliseconds since the epoch. */
  lastSuccessAt: number | null;
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

/** Decides readiness. */
export function readiness(input: ReadinessInput): Readiness {
  if (!input.brokerReachable) return { ready: false, reason: "Kafka broker unreachable" };
  if (input.lastSuccessAt === null) return { ready: false, reason: "no successful scan yet" };
  const period = schedulePeriod(input.schedule, input.lastSuccessAt);
  if (input.now - input.lastSuccessAt > 2 * period) {
    return { ready: false, reason: "no successful scan within two schedule periods" };
  }
  return { ready: true, reason: "ok" };
}
