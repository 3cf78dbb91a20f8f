/**
 * The process's life: it runs until SIGINT or SIGTERM, or until the producer
 * fails for good (then `/healthz` fails and the exit code is 1, so that the
 * supervisor restarts it). A stop lets the running scan finish within a grace
 * period, then stops its fetching and waits a little longer for the flush,
 * then closes the producer and leaves the election; every wait is bounded,
 * so the process exits before its supervisor's stop timeout.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Health } from "../ops/http.ts";
import { sleep } from "../util/retry.ts";

const log = getLogger(["datagen", "service"]);

/** How long a running scan may take to stop after SIGTERM before it is abandoned. */
export const SHUTDOWN_GRACE_MS = 20_000;
/** Past the grace period, how long the final flush of what was fetched may hold the stop. */
export const SHUTDOWN_FLUSH_MS = 10_000;
/** Then how long closing the producer and leaving the election may take. */
export const SHUTDOWN_CLOSE_MS = 3_000;

/** Time as the service sees it: the real clock, or a fake one in tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The machine's clock. */
export const REAL_CLOCK: Clock = { now: () => Date.now(), sleep };

/** Whether the process runs on, and how it ends. */
export interface Lifecycle {
  /** Aborted once the service stops: a signal came, or the producer failed for good. */
  readonly signal: AbortSignal;
  /** Why the producer cannot go on, or null. */
  readonly fatal: string | null;
  /** SIGINT or SIGTERM: no new scans; a running scan may finish. */
  requestStop(): void;
  /** The producer cannot go on: `/healthz` fails and the exit code is 1 (the first reason counts). */
  fail(reason: string): void;
  /** Stops without the shutdown's log line (after {@link Lifecycle.fail}). */
  halt(): void;
  /** What `/healthz` answers. */
  health(): Health;
  /** 0, or 1 once the producer failed. */
  exitCode(): number;
}

/** A running process's lifecycle. */
export function createLifecycle(): Lifecycle {
  const controller = new AbortController();
  let fatal: string | null = null;
  return {
    signal: controller.signal,
    get fatal() {
      return fatal;
    },
    requestStop() {
      if (!controller.signal.aborted) {
        log.info("Shutting down: no new scans; a running scan may finish");
      }
      controller.abort();
    },
    fail(reason) {
      fatal ??= reason;
    },
    halt() {
      controller.abort();
    },
    health: () => fatal === null ? { ok: true, reason: "ok" } : { ok: false, reason: fatal },
    exitCode: () => fatal === null ? 0 : 1,
  };
}

/** Where signal listeners are added: `Deno`, or a fake. */
export interface SignalTarget {
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

/** SIGINT and SIGTERM stop the service; returns the function that stops listening. */
export function listenForSignals(lifecycle: Lifecycle, target: SignalTarget = Deno): () => void {
  const onSignal = () => lifecycle.requestStop();
  target.addSignalListener("SIGINT", onSignal);
  target.addSignalListener("SIGTERM", onSignal);
  return () => {
    target.removeSignalListener("SIGINT", onSignal);
    target.removeSignalListener("SIGTERM", onSignal);
  };
}

/** What a stop waits for and closes. */
export interface StopParts {
  /** The running scan, if any (it never rejects). */
  running(): Promise<void> | null;
  /** Past the grace period: stop fetching, flush what was fetched. */
  abortScan(): void;
  /** Closes the producer (HA=on: ends the term and leaves the election). */
  close(): Promise<void>;
}

/** How long each step of a stop may take; the defaults are the service's. */
export interface StopLimits {
  graceMs?: number;
  flushMs?: number;
  closeMs?: number;
}

/** The stop of the service, once its lifecycle's signal aborted. */
export interface Shutdown {
  /**
   * Waits for `work` (the running scan, when a term ends); once the stop has
   * waited for the scan as long as it may, no longer.
   */
  bounded(work: Promise<void>): Promise<void>;
  /** Lets the running scan finish (bounded), then closes (bounded). */
  run(parts: StopParts): Promise<void>;
}

/** Creates the stop; `clock` and `limits` are the service's unless a test passes its own. */
export function createShutdown(clock: Clock = REAL_CLOCK, limits: StopLimits = {}): Shutdown {
  const graceMs = limits.graceMs ?? SHUTDOWN_GRACE_MS;
  const flushMs = limits.flushMs ?? SHUTDOWN_FLUSH_MS;
  const closeMs = limits.closeMs ?? SHUTDOWN_CLOSE_MS;
  let drained = () => {};
  const scanDrained = new Promise<void>((resolve) => drained = resolve);
  return {
    bounded: (work) => Promise.race([work, scanDrained]),
    async run(parts) {
      const running = parts.running();
      if (running !== null) {
        const done = new AbortController();
        // Let the scan finish; past the grace period stop fetching, flush what was fetched.
        void clock.sleep(graceMs, done.signal).then(() => {
          if (!done.signal.aborted) parts.abortScan();
        });
        // A broker that is down can hold the final flush; do not wait for it forever.
        await Promise.race([running, clock.sleep(graceMs + flushMs, done.signal)]);
        done.abort();
      }
      // Ending the term waits for the scan again: not past this point (see `bounded`).
      drained();
      // A broker that answers nothing holds the producer's close and the group's leave too.
      const closed = new AbortController();
      const closing = parts.close();
      closing.catch(() => {});
      await Promise.race([closing, clock.sleep(closeMs, closed.signal)]);
      closed.abort();
    },
  };
}
