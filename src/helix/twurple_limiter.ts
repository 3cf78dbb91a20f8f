/**
 * Puts the shared limiter in place of twurple's own. twurple 8 gives every
 * ApiClient a response-based limiter that, once `Ratelimit-Remaining` is 0,
 * holds every request until `Ratelimit-Reset` (the bucket full again, about
 * a minute), and that sends queued requests in rounds. Its configuration has
 * no option to change that, so the limiter object the client calls for each
 * Helix request is replaced by one that waits for a single point of the
 * shared bucket. Everything else stays twurple's: the app token and its
 * refresh on 401, the retries of 5xx answers, errors and request events.
 * Like the kafkajs patch, it refuses to apply when an upgrade changes the
 * shape it relies on.
 *
 * @module
 */

import type { ApiClient } from "@twurple/api";
import { callTwitchApiRaw } from "@twurple/api-call";
import { rateLimitHeaders, type SharedLimiter } from "./limiter.ts";

/** What twurple 8 hands its limiter for each Helix request. */
interface TwurpleRequest {
  options: Parameters<typeof callTwitchApiRaw>[0];
  clientId?: string;
  accessToken?: string;
  authorizationType?: string;
  fetchOptions?: Parameters<typeof callTwitchApiRaw>[4];
}

/** Hooks for metrics and logs. */
export interface LimiterHooks {
  /** A request waited this long for a point. */
  onWait?: (ms: number) => void;
  /** Helix answered 429 (the request is sent again after a point's wait). */
  onThrottled?: () => void;
}

/** 429s in a row for one request before it is handed back to twurple (and our retries). */
const THROTTLED_ATTEMPTS = 5;

/** Makes every Helix request of `api` wait for the shared limiter instead of twurple's. */
export function useSharedLimiter(
  api: ApiClient,
  limiter: SharedLimiter,
  hooks: LimiterHooks = {},
): void {
  const holder = api as unknown as { _rateLimiter?: { request?: unknown } };
  if (typeof holder._rateLimiter?.request !== "function") {
    throw new Error(
      "@twurple/api changed: ApiClient no longer has the rate limiter this service replaces; pin @twurple/api to 8.2 or update src/helix/twurple_limiter.ts",
    );
  }
  holder._rateLimiter = {
    async request(req: TwurpleRequest): Promise<Response> {
      for (let attempt = 1;; attempt++) {
        const waited = await limiter.acquire();
        if (waited > 0) hooks.onWait?.(waited);
        let response: Response;
        try {
          response = await callTwitchApiRaw(
            req.options,
            req.clientId,
            req.accessToken,
            req.authorizationType,
            req.fetchOptions,
          );
        } catch (error) {
          limiter.abandoned();
          throw error;
        }
        const throttled = response.status === 429;
        limiter.answered(rateLimitHeaders(response.headers), throttled);
        if (!throttled || attempt >= THROTTLED_ATTEMPTS) return response;
        hooks.onThrottled?.();
        // The body of a 429 is not read: free its connection.
        await response.body?.cancel();
      }
    },
  };
}
