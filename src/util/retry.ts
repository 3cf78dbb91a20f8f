/**
 * Capped exponential backoff with full jitter, for calls to the outside
 * world that fail for a while (5xx answers, broken connections, timeouts).
 *
 * @module
 */

/** How to retry. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Upper bound of the first wait, in milliseconds. */
  baseMs: number;
  /** Upper bound of any wait, in milliseconds. */
  capMs: number;
  /** Whether an error is worth another attempt; others are thrown at once. */
  retryable: (error: unknown) => boolean;
  /** Called before each wait (for logs and metrics). */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
  /** Stops waiting and gives up when aborted. */
  signal?: AbortSignal;
  /** Source of randomness in [0, 1); injectable so tests are exact. */
  random?: () => number;
}

/**
 * The wait before retry number `attempt` (1-based): uniformly random in
 * [0, min(cap, base * 2^(attempt-1))], so that many clients failing at the
 * same moment do not come back in step.
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs: number; capMs: number; random: () => number },
): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (attempt - 1));
  return Math.floor(options.random() * ceiling);
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.attempts || !options.retryable(error) || options.signal?.aborted) {
        throw error;
      }
      const waitMs = backoffDelay(attempt, { ...options, random });
      options.onRetry?.(error, attempt, waitMs);
      await sleep(waitMs, options.signal);
      // A stop during the wait ends the retry: no attempt starts after an abort.
      if (options.signal?.aborted) throw error;
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
