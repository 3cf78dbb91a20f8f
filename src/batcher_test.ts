import assert from "node:assert/strict";
import { createBatcher } from "./batcher.ts";
import type { StreamRecord } from "./record.ts";

function record(key: string, bytes = 10): StreamRecord {
  return { key, value: "x".repeat(bytes), timestamp: 0, headers: {} };
}

Deno.test("records written while a batch is in flight go out together in the next batch", async () => {
  const batches: string[][] = [];
  let release: () => void = () => {};
  const sink = createBatcher(async (batch) => {
    batches.push(batch.map((r) => r.key));
    await new Promise<void>((resolve) => release = resolve);
  });
  await sink.write([record("a")]);
  await sink.write([record("b")]);
  await sink.write([record("c")]);
  release();
  await new Promise((r) => setTimeout(r, 0));
  release();
  await sink.flush();
  assert.deepEqual(batches, [["a"], ["b", "c"]]);
});

Deno.test("a batch never exceeds the byte limit", async () => {
  const sizes: number[] = [];
  const sink = createBatcher((batch) => {
    sizes.push(batch.length);
    return Promise.resolve();
  }, { maxBatchBytes: 250 });
  // Each record counts key + value + 64 bytes of overhead: 1 + 10 + 64 = 75, so three fit in 250.
  await sink.write(Array.from({ length: 7 }, (_, i) => record(String(i))));
  await sink.flush();
  assert.deepEqual(sizes, [3, 3, 1]);
});

Deno.test("a failed send is reported by flush and refuses further writes", async () => {
  const sink = createBatcher(() => Promise.reject(new Error("broker gone")));
  await sink.write([record("a")]);
  await assert.rejects(sink.flush(), { message: "broker gone" });
  await assert.rejects(sink.write([record("b")]), { message: "broker gone" });
});
