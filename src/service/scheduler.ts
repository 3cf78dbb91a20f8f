/**
 * When scans run: a tick (the cron schedule, the start-up scan, the start of
 * a term) starts a scan when none runs and there is a session to scan with;
 * a tick that finds one running is remembered, and the next scan starts as
 * soon as that one ends (see `ops/schedule.ts` for the decisions).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type CadenceNotice, createCadence, onScanEnd, onTick } from "../ops/schedule.ts";

const log = getLogger(["datagen", "service"]);

/** What a scan runs with: a session, and the signal of its term (HA=on). */
export interface ScanTarget<S> {
  session: S;
  signal?: AbortSignal;
}

/** The edges of {@link createScheduler}. */
export interface SchedulerOptions<S> {
  /** What to scan with now: null for a standby, or a leader still rebuilding. */
  active(): ScanTarget<S> | null;
  /** One scan; it should not reject (a rejection is logged as a crash). */
  scan(target: ScanTarget<S>): Promise<void>;
  /** Whether the service is stopping: no new scans. */
  stopping(): boolean;
  /** The schedule's period after `now` (`schedulePeriod`). */
  periodMs(): number;
  /** How long the last scan projects a scan back to back takes (`projectedScanMs`). */
  projectedScanMs(): number;
  /** Logs that scans stopped or started again fitting the schedule. */
  notice(notice: CadenceNotice): void;
}

/** The scheduler of one service. */
export interface Scheduler {
  /** A schedule tick, the start-up scan, or the start of a term. */
  tick(): void;
  /** The running scan, or null. */
  running(): Promise<void> | null;
  /** Resolves once no scan runs (at once when none does). */
  idle(): Promise<void>;
}

/** Creates the scheduler: no scan runs until the first tick. */
export function createScheduler<S>(options: SchedulerOptions<S>): Scheduler {
  const cadence = createCadence();
  let running: Promise<void> | null = null;

  function launch() {
    const target = options.active();
    if (target === null) {
      // A standby, or a leader still rebuilding: no scan, and none remembered.
      cadence.running = false;
      cadence.pending = false;
      return;
    }
    running = options.scan(target)
      .catch((error) => log.error("Scan crashed: {error}", { error }))
      .finally(() => {
        running = null;
        const end = onScanEnd(cadence, {
          periodMs: options.periodMs(),
          projectedScanMs: options.projectedScanMs(),
          stopping: options.stopping(),
        });
        if (end.notice !== null) options.notice(end.notice);
        if (end.startNext) launch();
      });
  }

  return {
    tick() {
      if (options.stopping()) return;
      if (options.active() === null) return; // A standby, or a leader still rebuilding.
      const action = onTick(cadence);
      if (action === "start") launch();
      else log.debug("A scheduled scan is due while one runs: it starts when that one ends");
    },
    running: () => running,
    async idle() {
      await running;
    },
  };
}
