/**
 * Fake edges for the service's pieces: a clock whose time moves only when a
 * test says so, a delivery that records, refuses or holds batches, and a
 * session around it.
 *
 * @module
 */

import type { Clock } from "./lifecycle.ts";
import type { ScanSession } from "./context.ts";
import type { DeliveryFatal } from "../kafka/delivery.ts";
import type { StreamRecord } from "../scan/record.ts";
import type { LiveState } from "../scan/endings.ts";
import { parseConfig } from "../config/config.ts";
import type { Config } from "../config/config.ts";

/** Macrotask turns to let promise chains settle between fake timers. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A clock that moves only on {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; fire: () => void }[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = { at: this.#now + ms, fire: () => resolve() };
      this.#timers.push(timer);
      signal?.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve();
      }, { once: true });
    });
  }

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time on by `ms`, firing each timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fire();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

/** A delivery that keeps what it acknowledged; a test sets how the next sends behave. */
export class FakeDelivery {
  readonly acknowledged: StreamRecord[] = [];
  fatal: DeliveryFatal | null = null;
  lostLeadership = false;
  sessions = 1;
  closed = false;
  /** Set to refuse sends with this error. */
  refuse: Error | null = null;
  /** Set to hold sends until this promise settles. */
  hold: Promise<void> | null = null;

  send = async (batch: readonly StreamRecord[]): Promise<void> => {
    if (this.hold !== null) await this.hold;
    if (this.refuse !== null) throw this.refuse;
    this.acknowledged.push(...batch);
  };

  connect(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A session of a fake delivery and a live set. */
export function fakeSession(
  state: LiveState = new Map(),
): ScanSession & { delivery: FakeDelivery } {
  return { delivery: new FakeDelivery(), state };
}

/** The configuration of a simulated source with every default. */
export function testConfig(env: Record<string, string> = {}): Config {
  return parseConfig({ SOURCE: "simulated", ...env });
}
