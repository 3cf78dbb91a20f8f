/**
 * Connecting to Kafka at start-up: open the producer session (HA=off) or
 * join the leader election (HA=on), with growing waits between attempts,
 * until it works, the service is stopped, or Kafka refuses a permission
 * (waiting does not grant one: that is fatal).
 *
 * @module
 */

import { RebuildMemoryError } from "../kafka/rebuild.ts";
import { getLogger } from "@logtape/logtape";
import { backoffDelay } from "../util/retry.ts";
import type { Clock, Lifecycle } from "./lifecycle.ts";

const log = getLogger(["datagen", "service"]);

/** The edges of {@link connect}. */
export interface ConnectOptions<C> {
  /** One attempt: opens the session, or joins the election. */
  open(): Promise<C>;
  /** An attempt that succeeded after the stop: release what it opened (HA=on: leave). */
  release?(connection: C): void;
  /** The Kafka error code of a refusal no retry can cure, or null (`fatalProducerError`). */
  fatalCode(error: unknown): string | null;
  /** The one-line description of an error (`describeKafkaError`). */
  describe(error: unknown): string;
  lifecycle: Lifecycle;
  clock: Clock;
  random?: () => number;
}

/** The wait before attempt `attempt + 1`: half fixed and growing, half random. */
export function connectWait(attempt: number, random: () => number): number {
  // Half the ceiling is fixed, half random: waits grow attempt by attempt (as logged),
  // and replicas that lost the broker together still do not retry in step.
  const half = Math.min(15_000, 500 * 2 ** (attempt - 1));
  return 1000 + half + backoffDelay(attempt, { baseMs: 500, capMs: 15_000, random });
}

/** Connects with backoff; null when stopped first, or when Kafka refused a permission (fatal). */
export async function connect<C>(options: ConnectOptions<C>): Promise<C | null> {
  const { lifecycle, clock } = options;
  const stopped = new Promise<null>((resolve) => {
    if (lifecycle.signal.aborted) resolve(null);
    lifecycle.signal.addEventListener("abort", () => resolve(null), { once: true });
  });
  for (let attempt = 1; !lifecycle.signal.aborted; attempt++) {
    try {
      // kafkajs retries a connection for about ten seconds; a stop must not wait for that.
      const opening = options.open();
      opening.catch(() => {});
      const connection = await Promise.race([opening, stopped]);
      if (connection === null) {
        const release = options.release;
        if (release !== undefined) void opening.then((c) => release(c), () => {});
      }
      return connection;
    } catch (error) {
      if (error instanceof RebuildMemoryError) {
        // A restart reads the same topic into the same heap: only a larger heap helps.
        lifecycle.fail(error.message);
        log.error("Stopping with exit code 1: {error}", { error: error.message });
        return null;
      }
      const denied = options.fatalCode(error);
      if (denied?.endsWith("_AUTHORIZATION_FAILED")) {
        // Waiting does not grant a permission: let the supervisor restart it once an ACL is added.
        lifecycle.fail(`the Kafka producer cannot start: ${denied}`);
        log.error("Stopping with exit code 1: {error}", { error: options.describe(error) });
        return null;
      }
      const waitMs = connectWait(attempt, options.random ?? Math.random);
      log.warn("Kafka not usable yet ({error}); retrying in {waitMs} ms", {
        error: options.describe(error),
        waitMs,
      });
      await clock.sleep(waitMs, lifecycle.signal);
    }
  }
  return null;
}
