import assert from "node:assert/strict";
import {
  createBudget,
  msUntilPoint,
  observe,
  pointsLeft,
  rateBoundMs,
  takePoint,
} from "./budget.ts";

const t = 1_000_000;

Deno.test("until the first answer only one request probes the bucket", () => {
  const budget = createBudget(800, t);
  assert.equal(takePoint(budget, t), true);
  assert.equal(takePoint(budget, t), false);
  assert.equal(msUntilPoint(budget, t), Infinity);
  assert.equal(pointsLeft(budget, t), null);
  observe(budget, t + 100, { limit: 800, remaining: 799, reset: (t + 100) / 1000 + 1 });
  assert.equal(pointsLeft(budget, t + 100), 799);
  assert.equal(takePoint(budget, t + 100), true);
});

Deno.test("an empty bucket makes a request wait for one point, not for a full bucket", () => {
  const budget = createBudget(800, t);
  takePoint(budget, t);
  // Helix: nothing left, full again in 60 s.
  observe(budget, t, { limit: 800, remaining: 0, reset: t / 1000 + 60 });
  assert.equal(takePoint(budget, t), false);
  assert.equal(msUntilPoint(budget, t), 75);
  assert.equal(takePoint(budget, t + 74), false);
  assert.equal(takePoint(budget, t + 75), true);
  assert.equal(takePoint(budget, t + 75), false);
  assert.equal(msUntilPoint(budget, t + 75), 75);
});

Deno.test("the bucket refills continuously at limit/60 points a second, up to the limit", () => {
  const budget = createBudget(60, t);
  takePoint(budget, t);
  observe(budget, t, { limit: 60, remaining: 0 });
  assert.equal(pointsLeft(budget, t + 2_500), 2);
  assert.equal(pointsLeft(budget, t + 600_000), 60);
});

Deno.test("an answer lowers the points to what Helix reports, when another client spent them", () => {
  const budget = createBudget(800, t);
  takePoint(budget, t);
  observe(budget, t, { limit: 800, remaining: 500 });
  takePoint(budget, t);
  observe(budget, t, { limit: 800, remaining: 100 });
  assert.equal(pointsLeft(budget, t), 100);
});

Deno.test("an answer raises the points only as far as the requests in flight allow", () => {
  const budget = createBudget(800, t);
  takePoint(budget, t);
  observe(budget, t, { limit: 800, remaining: 10 });
  for (let i = 0; i < 10; i++) assert.equal(takePoint(budget, t), true);
  assert.equal(pointsLeft(budget, t), 0);
  // The first answer reports 9 left: Helix has charged it but maybe not the 9 others.
  observe(budget, t, { limit: 800, remaining: 9 });
  assert.equal(pointsLeft(budget, t), 0);
  // A report of 20 left with 8 in flight: at least 12 are the client's.
  observe(budget, t, { limit: 800, remaining: 20 });
  assert.equal(pointsLeft(budget, t), 12);
});

Deno.test("a 429 empties the bucket and is not counted as a point spent", () => {
  const budget = createBudget(800, t);
  takePoint(budget, t);
  observe(budget, t, { limit: 800, remaining: 50 });
  takePoint(budget, t);
  observe(budget, t, { limit: 800, remaining: 0, reset: t / 1000 + 60 }, true);
  assert.equal(budget.spent, 1);
  assert.equal(pointsLeft(budget, t), 0);
  assert.equal(msUntilPoint(budget, t), 75);
});

Deno.test("a reset in the past means a full bucket; a reset alone bounds the points from below", () => {
  const budget = createBudget(60, t);
  takePoint(budget, t);
  observe(budget, t, { limit: 60, reset: t / 1000 - 1 });
  assert.equal(pointsLeft(budget, t), 60);
  takePoint(budget, t);
  observe(budget, t, { reset: t / 1000 + 30 });
  assert.equal(pointsLeft(budget, t), 30);
});

Deno.test("Ratelimit-Limit sets the refill rate", () => {
  const budget = createBudget(800, t);
  takePoint(budget, t);
  observe(budget, t, { limit: 60, remaining: 0 });
  assert.equal(msUntilPoint(budget, t), 1000);
  assert.equal(rateBoundMs(budget, 66), 66_000);
});
