/**
 * The client's picture of Helix's rate limit: one token bucket per client
 * id, shared by every chain of pages. Helix refills its bucket continuously
 * (`limit` points a minute), so a request needs to wait for one point, never
 * for the bucket to be full again. The bucket refills here at the same rate
 * and each answer's headers correct it. Pure: times are parameters.
 *
 * @module
 */

const MINUTE_MS = 60_000;

/** The client-side bucket of one client id. */
export interface Budget {
  /** Points per minute (and the bucket's size), as Helix last reported it. */
  limit: number;
  /** Points the client may still spend; negative while sent requests are not yet paid for. */
  points: number;
  /** When `points` was last brought up to date, in milliseconds. */
  updatedAt: number;
  /** Requests sent whose answer has not arrived. */
  inFlight: number;
  /** Whether an answer has told the bucket's state yet (until then one request probes it). */
  known: boolean;
  /** Points paid: requests Helix answered other than 429. */
  spent: number;
}

/** The rate-limit headers of one answer (`Ratelimit-Limit`, `-Remaining`, `-Reset`). */
export interface RateLimitHeaders {
  limit?: number;
  remaining?: number;
  /** Unix seconds at which the bucket is full again. */
  reset?: number;
}

/** A bucket of unknown state, assumed to hold `limit` points a minute (Helix's 800 for apps). */
export function createBudget(limit: number, now: number): Budget {
  return { limit, points: 0, updatedAt: now, inFlight: 0, known: false, spent: 0 };
}

/** Milliseconds for the bucket to gain one point. */
export function pointMs(budget: Budget): number {
  return MINUTE_MS / budget.limit;
}

/** The lower bound on the time `requests` take at the bucket's rate, in milliseconds. */
export function rateBoundMs(budget: Budget, requests: number): number {
  return requests * pointMs(budget);
}

function refill(budget: Budget, now: number): void {
  const elapsed = Math.max(0, now - budget.updatedAt);
  budget.points = Math.min(budget.limit, budget.points + elapsed / pointMs(budget));
  budget.updatedAt = Math.max(now, budget.updatedAt);
}

/**
 * Takes one point for a request about to be sent, if there is one. Until
 * the first answer only one request is out: it learns the bucket's state
 * without risking a burst of 429s against a bucket another process emptied.
 */
export function takePoint(budget: Budget, now: number): boolean {
  if (!budget.known) {
    if (budget.inFlight > 0) return false;
    budget.inFlight++;
    return true;
  }
  refill(budget, now);
  if (budget.points < 1) return false;
  budget.points -= 1;
  budget.inFlight++;
  return true;
}

/** Milliseconds until {@link takePoint} can succeed (Infinity while the probe is out). */
export function msUntilPoint(budget: Budget, now: number): number {
  if (!budget.known) return budget.inFlight > 0 ? Infinity : 0;
  refill(budget, now);
  return budget.points >= 1 ? 0 : Math.ceil((1 - budget.points) * pointMs(budget));
}

/**
 * An answer arrived: its headers correct the bucket. `Ratelimit-Remaining`
 * counts whole points at Helix, which has charged every request it received;
 * the requests still in flight may or may not be among them, so the client's
 * points are kept between `remaining - inFlight` and `remaining`.
 * `Ratelimit-Reset` (when the bucket is full) stands in when no remaining is
 * sent, and a reset in the past means a full bucket. `throttled` is a 429,
 * which Helix did not charge.
 */
export function observe(
  budget: Budget,
  now: number,
  headers: RateLimitHeaders,
  throttled = false,
): void {
  budget.inFlight = Math.max(0, budget.inFlight - 1);
  if (!throttled) budget.spent++;
  if (headers.limit !== undefined && headers.limit > 0) {
    refill(budget, now);
    budget.limit = headers.limit;
  }
  const reported = reportedPoints(budget, now, headers);
  if (reported === null) {
    // No rate-limit headers: a 429 still says the bucket is empty.
    if (throttled) correct(budget, now, 0);
    return;
  }
  correct(budget, now, reported);
}

function reportedPoints(budget: Budget, now: number, headers: RateLimitHeaders): number | null {
  const resetMs = headers.reset === undefined ? undefined : headers.reset * 1000;
  if (resetMs !== undefined && resetMs <= now) return budget.limit;
  if (headers.remaining !== undefined) return headers.remaining;
  if (resetMs !== undefined) {
    // Reset is rounded up to whole seconds: this is a lower bound.
    return Math.max(0, budget.limit - (resetMs - now) / pointMs(budget));
  }
  return null;
}

function correct(budget: Budget, now: number, reported: number): void {
  refill(budget, now);
  if (!budget.known) {
    budget.known = true;
    budget.points = reported - budget.inFlight;
    return;
  }
  budget.points = Math.min(reported, Math.max(reported - budget.inFlight, budget.points));
}

/** A request was sent but no answer came (a network error or a timeout): it may or may not have cost a point. */
export function abandon(budget: Budget): void {
  budget.inFlight = Math.max(0, budget.inFlight - 1);
}

/** The whole points the client believes are left (null before the first answer). */
export function pointsLeft(budget: Budget, now: number): number | null {
  if (!budget.known) return null;
  refill(budget, now);
  return Math.max(0, Math.floor(budget.points));
}
