import assert from "node:assert/strict";
import { createSharedLimiter, type LimiterClock, rateLimitHeaders } from "./limiter.ts";
import { createBucket, rateLimitHeaders as simHeaders, takePoints } from "../sim/rate_limit.ts";

/** A clock whose timers fire only when the test advances it. */
function fakeClock(start: number) {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: LimiterClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return () => timers.delete(id);
    },
  };
  async function settle() {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
  return {
    clock,
    now: () => now,
    /** Runs timers in time order until none is left at or before `until`. */
    async runUntil(until: number) {
      await settle();
      while (true) {
        let first: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (!first || entry[1].at < first[1].at) first = entry;
        if (!first || first[1].at > until) break;
        timers.delete(first[0]);
        now = Math.max(now, first[1].at);
        first[1].fn();
        await settle();
      }
      now = Math.max(now, until);
    },
  };
}

const t0 = 1_700_000_000_000;

Deno.test("lanes share one bucket: 15 chains against an empty 800-point bucket get one 429 (the probe) and no other", async () => {
  const fake = fakeClock(t0);
  const limiter = createSharedLimiter({ clock: fake.clock });
  // Helix's bucket, emptied by an earlier scan.
  const server = createBucket(800, t0);
  server.points = 0;
  const latencyMs = 100;
  const waits: number[] = [];
  let throttled = 0;
  let answered = 0;
  function request(): Promise<void> {
    return limiter.acquire().then((waited) => {
      waits.push(waited);
      const state = takePoints(server, fake.now());
      return new Promise<void>((resolve) => {
        fake.clock.setTimeout(() => {
          const headers = rateLimitHeaders(new Headers(simHeaders(state)));
          limiter.answered(headers, !state.allowed);
          if (state.allowed) answered++;
          else throttled++;
          resolve();
        }, latencyMs);
      });
    });
  }
  const lanes = Array.from({ length: 15 }, async () => {
    while (answered + 15 <= 400) await request();
  });
  await fake.runUntil(t0 + 60_000);
  await Promise.all(lanes);
  assert.equal(throttled, 1);
  // 400 points at 800 a minute take 30 s from an empty bucket; the first answer costs one round trip.
  assert.ok(answered >= 386 && answered <= 400, `answered ${answered}`);
  assert.ok(Math.max(...waits) <= 2_000, `longest wait ${Math.max(...waits)} ms`);
  assert.equal(limiter.spent(), answered);
});

Deno.test("a wait ends after one point's time (75 ms at 800 a minute), not at Ratelimit-Reset", async () => {
  const fake = fakeClock(t0);
  const limiter = createSharedLimiter({ clock: fake.clock });
  assert.equal(await limiter.acquire(), 0);
  limiter.answered({ limit: 800, remaining: 0, reset: t0 / 1000 + 60 }, false);
  let waited: number | null = null;
  limiter.acquire().then((ms) => waited = ms);
  await fake.runUntil(t0 + 74);
  assert.equal(waited, null);
  await fake.runUntil(t0 + 75);
  assert.equal(waited, 75);
});

Deno.test("waiting requests are served first come, first served", async () => {
  const fake = fakeClock(t0);
  const limiter = createSharedLimiter({ clock: fake.clock });
  await limiter.acquire();
  limiter.answered({ limit: 60, remaining: 0 }, false);
  const order: number[] = [];
  for (const lane of [1, 2, 3]) limiter.acquire().then(() => order.push(lane));
  await fake.runUntil(t0 + 1_000);
  assert.deepEqual(order, [1]);
  await fake.runUntil(t0 + 3_000);
  assert.deepEqual(order, [1, 2, 3]);
});

Deno.test("a request without an answer frees the probe for the next", async () => {
  const fake = fakeClock(t0);
  const limiter = createSharedLimiter({ clock: fake.clock });
  await limiter.acquire();
  let second = false;
  limiter.acquire().then(() => second = true);
  await fake.runUntil(t0 + 10_000);
  assert.equal(second, false);
  limiter.abandoned();
  await fake.runUntil(t0 + 10_000);
  assert.equal(second, true);
});

Deno.test("rate-limit headers are read as numbers, and absent ones stay undefined", () => {
  assert.deepEqual(
    rateLimitHeaders(new Headers({ "Ratelimit-Limit": "800", "Ratelimit-Remaining": "12" })),
    { limit: 800, remaining: 12, reset: undefined },
  );
});
