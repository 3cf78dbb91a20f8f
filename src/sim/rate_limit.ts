/**
 * Helix's rate limit: a token bucket per client id, `limit` points that
 * refill continuously at `limit` points per minute. Pure functions over a
 * plain bucket; the clock is a parameter.
 *
 * @module
 */

/** A client's bucket. */
export interface Bucket {
  /** Points per minute, and the size of the bucket: what the headers advertise. */
  limit: number;
  /** Points per minute the bucket really refills (Twitch has been measured below its limit). */
  refill: number;
  /** Points left (fractional while refilling). */
  points: number;
  /** When `points` was last brought up to date, in milliseconds. */
  updatedAt: number;
}

/** The rate-limit headers' values after a request. */
export interface RateLimitState {
  /** Whether the request may proceed (a point was taken). */
  allowed: boolean;
  /** `Ratelimit-Limit`. */
  limit: number;
  /** `Ratelimit-Remaining`: whole points left. */
  remaining: number;
  /** `Ratelimit-Reset`: Unix seconds at which the bucket is full again. */
  reset: number;
}

const MINUTE_MS = 60_000;

/** A full bucket; it refills at `refill` points a minute (default: `limit`). */
export function createBucket(limit: number, now: number, refill = limit): Bucket {
  return { limit, refill, points: limit, updatedAt: now };
}

/** Takes `cost` points if the bucket has them; reports the state either way. */
export function takePoints(bucket: Bucket, now: number, cost = 1): RateLimitState {
  refill(bucket, now);
  const allowed = bucket.points >= cost;
  if (allowed) bucket.points -= cost;
  return stateOf(bucket, now, allowed);
}

/** Reports the state without taking a point. */
export function peekPoints(bucket: Bucket, now: number): RateLimitState {
  refill(bucket, now);
  return stateOf(bucket, now, bucket.points >= 1);
}

/** The headers Helix sends with this state. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "Ratelimit-Limit": String(state.limit),
    "Ratelimit-Remaining": String(state.remaining),
    "Ratelimit-Reset": String(state.reset),
  };
}

function refill(bucket: Bucket, now: number): void {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  bucket.points = Math.min(bucket.limit, bucket.points + (elapsed * bucket.refill) / MINUTE_MS);
  bucket.updatedAt = Math.max(now, bucket.updatedAt);
}

function stateOf(bucket: Bucket, now: number, allowed: boolean): RateLimitState {
  const missing = bucket.limit - bucket.points;
  const fullAt = now + (missing * MINUTE_MS) / bucket.limit;
  return {
    allowed,
    limit: bucket.limit,
    remaining: Math.floor(bucket.points),
    reset: Math.ceil(fullAt / 1000),
  };
}
