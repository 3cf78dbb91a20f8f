/**
 * Waiting for Helix to list what stream.online announced. Twitch sends the
 * event typically 30 s to 2 minutes before Get Streams lists the broadcast,
 * so a look-up seconds later usually finds nothing. Channels waiting are
 * looked up together, one Get Streams for up to 100 user ids, at growing
 * intervals (1, 2, 4, 8 s, then every 10 s) for up to 3 minutes; every
 * look-up goes through the source, so it shares the scans' rate bucket.
 *
 * @module
 */

import type { StreamSource } from "../helix/client.ts";
import type { HelixStream } from "../helix/stream.ts";

/** Helix answers at most this many user ids in one look-up. */
const USERS_PER_LOOKUP = 100;
/** Waits from the event to each look-up, in milliseconds; then every {@link STEADY_MS}. */
const FIRST_OFFSETS_MS = [1_000, 3_000, 7_000, 15_000];
const STEADY_MS = 10_000;

/** What a channel waited for: the stream Helix listed, and when that answer came. */
export interface Listed {
  stream: HelixStream;
  fetchedAt: number;
}

/** Runs `task` after `ms`; tests pass a clock of their own. */
export type Schedule = (ms: number, task: () => Promise<void>) => void;

/** The edges and limits of the waiting. */
export interface OnlineRetryOptions {
  source: StreamSource;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Runs a task later (default `setTimeout`). */
  schedule?: Schedule;
  /** How long after the event to keep looking (default 3 minutes). */
  maxWaitMs?: number;
}

/** What one waiting channel is after. */
interface Waiting {
  userId: string;
  /** Whether a listed stream is the one waited for. */
  accept: (stream: HelixStream) => boolean;
  since: number;
  /** The look-ups made so far. */
  attempts: number;
  /** When the next look-up is due. */
  dueAt: number;
  resolve: (found: Listed | null) => void;
}

/** The look-up offset after the event for attempt `attempt` (0-based). */
export function lookupOffset(attempt: number): number {
  if (attempt < FIRST_OFFSETS_MS.length) return FIRST_OFFSETS_MS[attempt];
  const last = FIRST_OFFSETS_MS[FIRST_OFFSETS_MS.length - 1];
  return last + (attempt - FIRST_OFFSETS_MS.length + 1) * STEADY_MS;
}

/** Channels waiting for Helix to list a new broadcast, looked up in batches. */
export class OnlineRetries {
  #options: OnlineRetryOptions;
  #now: () => number;
  #schedule: Schedule;
  #maxWaitMs: number;
  #waiting = new Map<string, Waiting>();
  /** When the next batch look-up is scheduled (Infinity: none). */
  #nextRunAt = Infinity;
  /** Counts plans: a task planned before a sooner one was planned does nothing. */
  #plans = 0;
  #closed = false;

  /** @param options The source and the clock. */
  constructor(options: OnlineRetryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? ((ms, task) => {
      // A look-up due later must not keep a stopping process alive.
      Deno.unrefTimer(setTimeout(() => task().catch(() => {}), ms));
    });
    this.#maxWaitMs = options.maxWaitMs ?? 180_000;
  }

  /**
   * Resolves with the stream of `userId` that `accept` takes once Helix lists it, or null after
   * the longest wait. A channel waiting already is replaced (its newer event wins).
   */
  wait(userId: string, accept: (stream: HelixStream) => boolean): Promise<Listed | null> {
    this.#waiting.get(userId)?.resolve(null);
    return new Promise((resolve) => {
      if (this.#closed) return resolve(null);
      const since = this.#now();
      this.#waiting.set(userId, {
        userId,
        accept,
        since,
        attempts: 0,
        dueAt: since + lookupOffset(0),
        resolve,
      });
      this.#plan();
    });
  }

  /** Stops waiting for `userId` (a newer event of the channel came): its wait resolves null. */
  cancel(userId: string): void {
    this.#waiting.get(userId)?.resolve(null);
    this.#waiting.delete(userId);
  }

  /** Channels waiting now. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Gives up on every channel (shutdown). */
  close(): void {
    this.#closed = true;
    for (const waiting of this.#waiting.values()) waiting.resolve(null);
    this.#waiting.clear();
  }

  /** Schedules the next batch at the earliest due time, unless one is scheduled sooner. */
  #plan(): void {
    if (this.#waiting.size === 0) return;
    const dueAt = Math.min(...[...this.#waiting.values()].map((w) => w.dueAt));
    if (dueAt >= this.#nextRunAt) return;
    this.#nextRunAt = dueAt;
    const plan = ++this.#plans;
    this.#schedule(Math.max(0, dueAt - this.#now()), () => this.#run(plan));
  }

  async #run(plan: number): Promise<void> {
    if (plan !== this.#plans || this.#closed) return;
    this.#nextRunAt = Infinity;
    try {
      await this.#lookUpDue();
    } finally {
      this.#plan();
    }
  }

  /** Looks up the channels that are due, and others waiting as passengers, 100 at a time. */
  async #lookUpDue(): Promise<void> {
    const now = this.#now();
    const waiting = [...this.#waiting.values()].sort((a, b) => a.dueAt - b.dueAt);
    const due = waiting.filter((w) => w.dueAt <= now);
    for (let i = 0; i < due.length; i += USERS_PER_LOOKUP) {
      // Passengers ride along in the room a look-up has left: they cost nothing more.
      const batch = due.slice(i, i + USERS_PER_LOOKUP);
      if (i + USERS_PER_LOOKUP >= due.length) {
        const room = USERS_PER_LOOKUP - batch.length;
        batch.push(...waiting.filter((w) => w.dueAt > now).slice(0, room));
      }
      await this.#lookUp(batch);
    }
  }

  async #lookUp(batch: Waiting[]): Promise<void> {
    let answer;
    try {
      answer = await this.#options.source.fetchPage({ user_id: batch.map((w) => w.userId) }, {
        first: USERS_PER_LOOKUP,
      });
    } catch {
      // A failed look-up counts as one that found nothing: the next one is due as planned.
      answer = { streams: [], fetchedAt: this.#now() };
    }
    const now = this.#now();
    for (const w of batch) {
      if (this.#waiting.get(w.userId) !== w) continue;
      const stream = answer.streams.find((s) => s.user_id === w.userId && w.accept(s));
      if (stream !== undefined) {
        this.#waiting.delete(w.userId);
        w.resolve({ stream, fetchedAt: answer.fetchedAt });
        continue;
      }
      if (w.dueAt > now) continue;
      w.attempts++;
      const next = w.since + lookupOffset(w.attempts);
      if (next - w.since > this.#maxWaitMs) {
        this.#waiting.delete(w.userId);
        w.resolve(null);
      } else {
        w.dueAt = Math.max(next, now);
      }
    }
  }
}
