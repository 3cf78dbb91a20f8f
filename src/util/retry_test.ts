import assert from "node:assert/strict";
import { backoffDelay, retry } from "./retry.ts";

Deno.test("backoff doubles up to the cap, scaled by the jitter", () => {
  const options = { baseMs: 100, capMs: 1000, random: () => 0.5 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options)), [
    50,
    100,
    200,
    400,
    500,
    500,
  ]);
});

Deno.test("a retryable failure is retried until it succeeds", async () => {
  let calls = 0;
  const waits: number[] = [];
  const result = await retry(() => {
    calls++;
    return calls < 3 ? Promise.reject(new Error("flaky")) : Promise.resolve("done");
  }, {
    attempts: 5,
    baseMs: 1,
    capMs: 1,
    retryable: () => true,
    random: () => 0,
    onRetry: (_e, _a, w) => waits.push(w),
  });
  assert.equal(result, "done");
  assert.equal(calls, 3);
  assert.deepEqual(waits, [0, 0]);
});

Deno.test("a non-retryable failure is thrown at once", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("bad request"));
    }, { attempts: 5, baseMs: 1, capMs: 1, retryable: () => false }),
    { message: "bad request" },
  );
  assert.equal(calls, 1);
});

Deno.test("the last failure is thrown when attempts run out", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => Promise.reject(new Error(`failure ${++calls}`)), {
      attempts: 3,
      baseMs: 1,
      capMs: 1,
      retryable: () => true,
      random: () => 0,
    }),
    { message: "failure 3" },
  );
});

Deno.test("an abort during the wait between attempts ends the retry without another attempt", async () => {
  let calls = 0;
  const abort = new AbortController();
  const started = performance.now();
  setTimeout(() => abort.abort(), 20);
  const error = await retry(() => {
    calls++;
    return Promise.reject(new Error(`failure ${calls}`));
  }, {
    attempts: 5,
    baseMs: 10_000,
    capMs: 10_000,
    retryable: () => true,
    random: () => 1,
    signal: abort.signal,
  }).then(() => null, (e) => e);
  assert.ok(performance.now() - started < 1000);
  assert.equal(calls, 1);
  assert.equal((error as Error).message, "failure 1");
});
