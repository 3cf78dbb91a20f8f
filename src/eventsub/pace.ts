/**
 * EventSub's share of the client id's rate bucket. Every EventSub call
 * (conduits, subscriptions, look-ups) takes its point from the limiter the
 * scans use, and at most `share` of the bucket's rate: with a share of 0.2
 * the scans keep 80 % of the points, so a scan takes at most 1.25 times its
 * rate bound while the subscriptions ramp up. After the ramp only changes to
 * the set cost points, and the scans get nearly all of them back.
 *
 * @module
 */

import type { SharedLimiter } from "../helix/limiter.ts";
import { rateLimitHeaders } from "../helix/limiter.ts";

/** EventSub's largest share of the bucket: scans within 1 / (1 − 0.2) = 1.25× their rate bound. */
export const EVENTSUB_SHARE = 0.2;

/** The gate EventSub's calls pass, and what it reports back to the limiter. */
export interface EventSubGate {
  /** Waits for EventSub's pace, then for a point of the shared bucket. */
  gate(): Promise<void>;
  /** The call's answer arrived. */
  answered(status: number, headers: Headers): void;
  /** The call got no answer. */
  abandoned(): void;
  /** Points taken so far. */
  readonly points: number;
}

/** A gate over `limiter`, at most `share` of its rate (default {@link EVENTSUB_SHARE}). */
export function createEventSubGate(
  limiter: SharedLimiter,
  options: { share?: number; now?: () => number; onPoint?: () => void } = {},
): EventSubGate {
  const share = options.share ?? EVENTSUB_SHARE;
  const now = options.now ?? Date.now;
  let nextAt = 0;
  let points = 0;
  return {
    async gate() {
      const at = Math.max(now(), nextAt);
      nextAt = at + 60_000 / (limiter.limit() * share);
      const wait = at - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await limiter.acquire();
      points++;
      options.onPoint?.();
    },
    answered(status, headers) {
      limiter.answered(rateLimitHeaders(headers), status === 429);
    },
    abandoned() {
      limiter.abandoned();
    },
    get points() {
      return points;
    },
  };
}
