/**
 * Walking the errors an error wraps: `cause`, or kafkajs's `originalError`.
 *
 * @module
 */

/** The fields of an error (or a thrown non-error) that callers branch on. */
export interface ErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** An error and the errors it wraps, outermost first, at most `limit` of them. */
export function causeChain(error: unknown, limit = 5): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  while (current && chain.length < limit) {
    const e = current as ErrorLike;
    chain.push(e);
    current = e.cause ?? e.originalError;
  }
  return chain;
}
