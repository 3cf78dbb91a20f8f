/**
 * Waiting in the process tests: for a condition, or for a probe to find
 * something, with a deadline that names what was awaited.
 *
 * @module
 */

/** Resolves once `done()` is true; rejects naming `what` after `ms`. */
export async function waitFor(
  what: string,
  done: () => boolean,
  ms: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The first non-null answer of `probe`; rejects naming `what` after `timeoutMs`. */
export async function probeUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
