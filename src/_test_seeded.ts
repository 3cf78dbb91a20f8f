/**
 * Seeded randomness for the tests that run random schedules: the same seed
 * gives the same schedule, so a failure printed with its seed repeats.
 *
 * @module
 */

/** A seeded generator (mulberry32) of numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: `SEED` when set (to repeat a failure), else a new one. */
export function testSeed(): number {
  return Number(Deno.env.get("SEED") ?? Date.now() % 1_000_000);
}
