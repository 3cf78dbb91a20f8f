import assert from "node:assert/strict";
import { runPool } from "./pool.ts";

function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("runPool runs every item once, at most `limit` at once", async () => {
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  await runPool([10, 11, 12, 13, 14, 15, 16], 3, async (item, index) => {
    running++;
    peak = Math.max(peak, running);
    await tick(1);
    assert.equal(item, index + 10);
    done.push(index);
    running--;
  });
  assert.deepEqual(done.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(peak, 3);
});

Deno.test("runPool starts no new item after a failure and throws the first failure", async () => {
  const started: number[] = [];
  const error = await runPool([0, 1, 2, 3, 4, 5], 2, async (item) => {
    started.push(item);
    await tick(item === 1 ? 5 : 1);
    if (item === 0) throw new Error("first");
    if (item === 1) throw new Error("second");
  }).then(() => null, (e) => e);
  assert.equal((error as Error).message, "first");
  // Item 0 fails before item 1 settles; the freed worker starts nothing more.
  assert.deepEqual(started, [0, 1]);
});

Deno.test("runPool waits for the running items to settle before it throws", async () => {
  let settled = false;
  await runPool([0, 1], 2, async (item) => {
    if (item === 0) throw new Error("boom");
    await tick(5);
    settled = true;
  }).catch(() => {});
  assert.equal(settled, true);
});

Deno.test("runPool with no items resolves at once", async () => {
  let calls = 0;
  // deno-lint-ignore require-await
  await runPool([], 4, async () => {
    calls++;
  });
  assert.equal(calls, 0);
});
