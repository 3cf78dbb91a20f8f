/**
 * A bounded pool of async work: the shards of a scan are paged side by side,
 * but no more at once than the rate-limit budget and the sockets can carry.
 *
 * @module
 */

/**
 * Runs `fn` over `items` with at most `limit` at once; the first failure
 * stops new work and is thrown once the running ones have settled.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  async function worker() {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
