/**
 * The Helix edge: Get Streams through `@twurple/api` with an app token.
 * twurple brings the client-credentials flow, token refresh on 401 and
 * three quick retries of 5xx answers. This module adds one rate-limit bucket
 * shared by every chain of pages (in place of twurple's limiter, see
 * `twurple_limiter.ts`), a timeout on every request, a slower retry with
 * jitter on top, raw Helix objects (not twurple's getters) and errors that
 * say what to do.
 *
 * @module
 */

import { ApiClient } from "@twurple/api";
import { AppTokenAuthProvider } from "@twurple/auth";
import { getLogger } from "@logtape/logtape";
import type { HelixStream } from "./stream.ts";
import { retry } from "../util/retry.ts";
import { createSharedLimiter, type SharedLimiter } from "./limiter.ts";
import { useSharedLimiter } from "./twurple_limiter.ts";

/** The filters of one Get Streams query (each at most 100 values). */
export interface HelixQuery {
  language?: string[];
  game_id?: string[];
  user_login?: string[];
  user_id?: string[];
}

/** One page of Get Streams. */
export interface StreamPage {
  streams: HelixStream[];
  /** Cursor of the next page; absent on the last page. */
  cursor?: string;
  /** When the answer arrived, in milliseconds since the epoch. */
  fetchedAt: number;
}

/** Where streams come from: Helix, or anything that answers like it. */
export interface StreamSource {
  /** Fetches one page of live streams. */
  fetchPage(
    query: HelixQuery,
    options: {
      cursor?: string;
      first?: number;
      signal?: AbortSignal;
      /** Which chain of pages this is; chains do not wait for each other. */
      lane?: number;
    },
  ): Promise<StreamPage>;
  /** The rate-limit points left, as Helix last reported them (null before the first answer). */
  rateLimitRemaining(): number | null;
  /** The rate-limit budget: points paid so far and the refill rate (absent: no rate limit known). */
  budget?(): RateBudget;
}

/** What a source knows of its rate-limit budget. */
export interface RateBudget {
  /** Points paid since the source was created (every answer but 429s), less others' (EventSub). */
  spent: number;
  /** Points per minute the bucket refills. */
  perMinute: number;
}

/** A Helix failure, with a message fit for the log and no secret in it. */
export class HelixError extends Error {
  /** HTTP status, when there was an answer. */
  readonly status?: number;
  /** Whether waiting and trying again may help. */
  readonly retryable: boolean;
  /** Whether the credentials are at fault (no scan can succeed until they are fixed). */
  readonly auth: boolean;

  /** @param message One line, without URLs (twurple's URLs carry the client secret). */
  constructor(message: string, options: { status?: number; retryable: boolean; auth?: boolean }) {
    super(message);
    this.name = "HelixError";
    this.status = options.status;
    this.retryable = options.retryable;
    this.auth = options.auth ?? false;
  }
}

/** Settings of the Helix client. */
export interface HelixOptions {
  clientId: string;
  clientSecret: string;
  /** Timeout of one HTTP request. */
  timeoutMs: number;
  /** Upper bound of one attempt, token request and twurple's retries included (default: derived from `timeoutMs`). */
  attemptTimeoutMs?: number;
  /** Attempts per page on top of twurple's own (default 4). */
  attempts?: number;
  /** Called with the final HTTP status of every Helix call (for metrics). */
  onRequest?: (status: number) => void;
  /** Called when a request waits for a rate-limit point (for metrics). */
  onRateLimitWait?: (ms: number) => void;
  /** The rate limiter to share (default: a new one for this client id). */
  limiter?: SharedLimiter;
  /**
   * Points others took from the shared limiter (EventSub): the budget's `spent` leaves them
   * out, so that a scan's points are its own.
   */
  othersSpent?: () => number;
}

const log = getLogger(["datagen", "helix"]);

type FetchOptions = ConstructorParameters<typeof ApiClient>[0]["fetchOptions"];

/** Creates the Helix source (no request is made until the first page). */
export function createHelixSource(options: HelixOptions): StreamSource {
  const authProvider = new AppTokenAuthProvider(options.clientId, options.clientSecret);
  // One client and one bucket for every lane (a shard's chain of pages): the
  // bucket is the client id's at Twitch, and the shared limiter sends each
  // request as soon as its point is there, without rounds.
  const limiter = options.limiter ?? createSharedLimiter();
  const api = createClient(authProvider, options);
  useSharedLimiter(api, limiter, {
    onWait: options.onRateLimitWait,
    onThrottled: () => options.onRequest?.(429),
  });

  async function call(
    query: Record<string, string | string[] | undefined>,
    signal?: AbortSignal,
  ) {
    return await retry(async () => {
      try {
        // twurple takes no signal, and a request may wait for its rate-limit point:
        // race the call against the signal so that a stop ends the wait at once.
        return await abortable(
          bounded(
            api.callApi<{ data: HelixStream[]; pagination?: { cursor?: string } }>({
              type: "helix",
              url: "streams",
              query,
            }),
            options.attemptTimeoutMs ?? attemptBoundMs(options.timeoutMs),
          ),
          signal,
        );
      } catch (error) {
        throw toHelixError(error);
      }
    }, {
      attempts: options.attempts ?? 4,
      baseMs: 1000,
      capMs: 15_000,
      signal,
      retryable: (error) => error instanceof HelixError && error.retryable,
      onRetry: (error, attempt, waitMs) =>
        log.warn("Helix request failed, retrying in {waitMs} ms (attempt {attempt}): {error}", {
          waitMs,
          attempt,
          error: (error as Error).message,
        }),
    });
  }

  return {
    async fetchPage(query, { cursor, first = 100, signal } = {}) {
      const answer = await call(
        { ...query, first: String(first), type: "live", after: cursor },
        signal,
      );
      const next = answer.pagination?.cursor;
      return {
        streams: answer.data ?? [],
        cursor: next === undefined || next === "" ? undefined : next,
        fetchedAt: Date.now(),
      };
    },
    rateLimitRemaining: () => limiter.remaining(),
    budget: () => ({
      spent: limiter.spent() - (options.othersSpent?.() ?? 0),
      perMinute: limiter.limit(),
    }),
  };
}

/**
 * The longest one attempt may take: twurple's own four tries of at most
 * `timeoutMs` each and its waits between them (0.5 + 1 + 2 s). It also
 * bounds the app-token request, which twurple sends without our timeout,
 * and leaves a minute for rate-limit waits (a point each, first come first
 * served, so a few seconds unless the bucket is tiny or shared).
 */
function attemptBoundMs(timeoutMs: number): number {
  return 4 * timeoutMs + 3_500 + 60_000;
}

function timedOut(): HelixError {
  return new HelixError("Helix request timed out (HELIX_TIMEOUT_MS)", { retryable: true });
}

/** Rejects with a retryable timeout when `promise` takes longer than `ms`. */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(timedOut()),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function aborted(): HelixError {
  return new HelixError("Helix request aborted (shutting down)", { retryable: false });
}

/** Rejects at once when `signal` aborts; the abandoned call settles on its own. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  promise.catch(() => {});
  if (signal.aborted) return Promise.reject(aborted());
  let stop: () => void = () => {};
  const stopped = new Promise<never>((_, reject) => {
    stop = () => reject(aborted());
    signal.addEventListener("abort", stop, { once: true });
  });
  return Promise.race([promise, stopped]).finally(() => signal.removeEventListener("abort", stop));
}

function createClient(authProvider: AppTokenAuthProvider, options: HelixOptions): ApiClient {
  const api = new ApiClient({
    authProvider,
    // A getter, because fetch options are spread into every request: each
    // request gets a fresh timeout signal.
    fetchOptions: {
      get signal() {
        return AbortSignal.timeout(options.timeoutMs);
      },
    } as FetchOptions,
    logger: {
      minLevel: "warning",
      custom: (level, message) => twurpleLog(level, message),
    },
  });
  api.onRequest((request) => options.onRequest?.(request.httpStatus));
  return api;
}

function twurpleLog(level: number, message: string) {
  // Levels: 0 critical, 1 error, 2 warning.
  if (level <= 1) log.error("twurple: {message}", { message });
  else log.warn("twurple: {message}", { message });
}

/** Turns whatever twurple or fetch threw into a {@link HelixError} without URLs or secrets. */
export function toHelixError(error: unknown): HelixError {
  if (error instanceof HelixError) return error;
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === "number") {
    const url = String((error as { url?: unknown }).url ?? "");
    const body = String((error as { body?: unknown }).body ?? "");
    const reason = helixMessage(body);
    // twurple reports the URL as the caller gave it, without the host: `token?...` for the app token.
    if (/(^|\/)token(\?|$)/.test(url)) {
      const which = status === 403 ? "TWITCH_CLIENT_SECRET" : "TWITCH_CLIENT_ID";
      return new HelixError(
        `Twitch refused the app credentials (${status}${
          reason ? ` ${reason}` : ""
        }); check ${which}`,
        { status, retryable: status >= 500, auth: status < 500 },
      );
    }
    if (status === 401) {
      return new HelixError(
        "Helix answered 401 Unauthorized even with a new app token; check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET",
        { status, retryable: false, auth: true },
      );
    }
    return new HelixError(`Helix answered ${status}${reason ? ` (${reason})` : ""}`, {
      status,
      retryable: status >= 500 || status === 429,
    });
  }
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError") {
    return timedOut();
  }
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  // fetch says only "fetch failed"; why (refused, DNS, TLS) is in its cause, after the URL.
  const cause = (error as { cause?: unknown })?.cause;
  const detail = cause instanceof Error
    ? ` (${cause.message.split("\n")[0].replace(/^error sending request for url \(.*?\): /, "")})`
    : "";
  return new HelixError(
    `Helix request failed: ${(message + detail).replace(/https?:\/\/\S+/g, "<url>")}`,
    { retryable: true },
  );
}

function helixMessage(body: string): string {
  try {
    const parsed = JSON.parse(body);
    return typeof parsed?.message === "string" ? parsed.message : "";
  } catch {
    return "";
  }
}
