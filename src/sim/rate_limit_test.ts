import assert from "node:assert/strict";
import { createBucket, peekPoints, rateLimitHeaders, takePoints } from "./rate_limit.ts";

const T0 = 1_700_000_000_000;

Deno.test("a full bucket allows a request, reports one point fewer and is full again 75 ms later", () => {
  const bucket = createBucket(800, T0);
  assert.deepEqual(takePoints(bucket, T0), {
    allowed: true,
    limit: 800,
    remaining: 799,
    reset: 1_700_000_001,
  });
});

Deno.test("an empty bucket refuses and says when it is full again", () => {
  const bucket = createBucket(3, T0);
  takePoints(bucket, T0);
  takePoints(bucket, T0);
  takePoints(bucket, T0);
  assert.deepEqual(takePoints(bucket, T0), {
    allowed: false,
    limit: 3,
    remaining: 0,
    reset: 1_700_000_060,
  });
});

Deno.test("points refill continuously at the limit per minute", () => {
  const bucket = createBucket(60, T0);
  for (let i = 0; i < 60; i++) takePoints(bucket, T0);
  assert.equal(peekPoints(bucket, T0 + 10_000).remaining, 10);
  assert.equal(takePoints(bucket, T0 + 10_000).remaining, 9);
  assert.equal(peekPoints(bucket, T0 + 600_000).remaining, 60);
});

Deno.test("the headers carry Helix's names", () => {
  assert.deepEqual(rateLimitHeaders({ allowed: true, limit: 800, remaining: 5, reset: 42 }), {
    "Ratelimit-Limit": "800",
    "Ratelimit-Remaining": "5",
    "Ratelimit-Reset": "42",
  });
});
