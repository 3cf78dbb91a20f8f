/**
 * The shared rate limiter: one {@link Budget} per client id, and a queue of
 * requests waiting for a point, served first come, first served, so that no
 * chain of pages waits behind the others for long. The clock and the timers
 * are parameters, so that waits can be tested in fake time.
 *
 * @module
 */

import {
  abandon,
  type Budget,
  createBudget,
  msUntilPoint,
  observe,
  pointsLeft,
  type RateLimitHeaders,
  takePoint,
} from "./budget.ts";

/** Helix's rate limit of an app token: points per minute. */
export const HELIX_POINTS_PER_MINUTE = 800;

/** The clock and timers of a limiter. */
export interface LimiterClock {
  now(): number;
  /** Calls `fn` after `ms`; returns what cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** A rate limiter shared by every request of one client id. */
export interface SharedLimiter {
  /** Resolves when a point is taken for one request; to the milliseconds waited. */
  acquire(): Promise<number>;
  /** The request's answer arrived with these headers (`throttled`: a 429). */
  answered(headers: RateLimitHeaders, throttled: boolean): void;
  /** The request got no answer. */
  abandoned(): void;
  /** Whole points left as the client believes (null before the first answer). */
  remaining(): number | null;
  /** Points paid so far (every answer but 429s). */
  spent(): number;
  /** Points per minute, as Helix last reported them. */
  limit(): number;
}

const realClock: LimiterClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  },
};

/** Creates a shared limiter for a bucket of `limit` points a minute (corrected by the first answer). */
export function createSharedLimiter(
  options: { limit?: number; clock?: LimiterClock } = {},
): SharedLimiter {
  const clock = options.clock ?? realClock;
  const budget: Budget = createBudget(options.limit ?? HELIX_POINTS_PER_MINUTE, clock.now());
  const waiting: Array<{ since: number; resolve: (waitedMs: number) => void }> = [];
  let cancel: (() => void) | null = null;

  function serve() {
    cancel?.();
    cancel = null;
    while (waiting.length > 0) {
      const now = clock.now();
      if (!takePoint(budget, now)) {
        const ms = msUntilPoint(budget, now);
        // Infinity: the probe is out; its answer serves the queue.
        if (Number.isFinite(ms)) cancel = clock.setTimeout(serve, Math.max(1, ms));
        return;
      }
      const next = waiting.shift()!;
      next.resolve(now - next.since);
    }
  }

  return {
    acquire() {
      return new Promise((resolve) => {
        waiting.push({ since: clock.now(), resolve });
        serve();
      });
    },
    answered(headers, throttled) {
      observe(budget, clock.now(), headers, throttled);
      serve();
    },
    abandoned() {
      abandon(budget);
      serve();
    },
    remaining: () => pointsLeft(budget, clock.now()),
    spent: () => budget.spent,
    limit: () => budget.limit,
  };
}

/** Reads the rate-limit headers of an answer. */
export function rateLimitHeaders(headers: Headers): RateLimitHeaders {
  function number(name: string): number | undefined {
    const value = headers.get(name);
    if (value === null || value.trim() === "") return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return {
    limit: number("ratelimit-limit"),
    remaining: number("ratelimit-remaining"),
    reset: number("ratelimit-reset"),
  };
}
