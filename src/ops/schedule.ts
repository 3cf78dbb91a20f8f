/**
 * What a schedule tick does while a scan runs. Scans never overlap, but a
 * tick that finds one running is remembered (one at most), and the next scan
 * starts as soon as the running one ends: when scans take longer than the
 * schedule's period they run back to back instead of losing a tick each.
 * Pure: the service calls it on every tick and at the end of every scan.
 *
 * @module
 */

/** The scheduler's state. */
export interface Cadence {
  running: boolean;
  /** A tick came while a scan ran. */
  pending: boolean;
  /** Scans have been running back to back (logged once when it begins). */
  overrunning: boolean;
}

/** What a tick does: start a scan, remember the tick, or nothing (a tick is remembered already). */
export type TickAction = "start" | "remember" | "ignore";

/** Something to log once: scans no longer fit the schedule, or fit again. */
export type CadenceNotice =
  | { kind: "overrun"; cadenceMs: number }
  | { kind: "fits" };

/** What follows the end of a scan. */
export interface ScanEnd {
  /** Start the next scan now (a tick came while this one ran). */
  startNext: boolean;
  notice: CadenceNotice | null;
}

/** An idle scheduler. */
export function createCadence(): Cadence {
  return { running: false, pending: false, overrunning: false };
}

/** A schedule tick (or the start-up scan). */
export function onTick(cadence: Cadence): TickAction {
  if (!cadence.running) {
    cadence.running = true;
    return "start";
  }
  if (cadence.pending) return "ignore";
  cadence.pending = true;
  return "remember";
}

/**
 * A scan ended. `projectedScanMs` is how long a scan takes back to back
 * (see `projectedScanMs` in metrics.ts); the cadence is that or the
 * schedule's period, the longer. `stopping`: no new scan starts.
 */
export function onScanEnd(
  cadence: Cadence,
  options: { periodMs: number; projectedScanMs: number; stopping?: boolean },
): ScanEnd {
  if (cadence.pending && !options.stopping) {
    cadence.pending = false;
    let notice: CadenceNotice | null = null;
    if (!cadence.overrunning) {
      cadence.overrunning = true;
      notice = {
        kind: "overrun",
        cadenceMs: Math.max(options.periodMs, options.projectedScanMs),
      };
    }
    return { startNext: true, notice };
  }
  cadence.running = false;
  cadence.pending = false;
  if (cadence.overrunning && !options.stopping) {
    cadence.overrunning = false;
    return { startNext: false, notice: { kind: "fits" } };
  }
  return { startNext: false, notice: null };
}
