import assert from "node:assert/strict";
import { createBatcher, recordSize } from "./batcher.ts";
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

Deno.test("a record's size counts key, value and headers in UTF-8 bytes, not UTF-16 units", () => {
  // Value: 10 bytes of {"title":", 4 for the emoji (2 units), 3 for the CJK
  // character, 2 for é, 2 for "}: 21 bytes in 16 units. Header: 7 + 3 bytes.
  const value = '{"title":"🎮中é"}';
  assert.equal(value.length, 16);
  assert.equal(
    recordSize({ key: "42", value, timestamp: 0, headers: { "scan-id": "abc" } }),
    2 + 21 + 10 + 64,
  );
  assert.equal(recordSize({ key: "42", value: null, timestamp: 0, headers: {} }), 2 + 64);
  // A lone surrogate is sent as U+FFFD, three bytes.
  assert.equal(recordSize({ key: "\ud83c", value: null, timestamp: 0, headers: {} }), 3 + 64);
});

Deno.test("batches of emoji and CJK titles stay within the byte limit", async () => {
  const batches: StreamRecord[][] = [];
  const sink = createBatcher((batch) => {
    batches.push(batch);
    return Promise.resolve();
  }, { maxBatchBytes: 1000 });
  // 100 emoji are 200 UTF-16 units but 400 bytes; 100 CJK characters 100 units but 300 bytes.
  const titles = ["🎮".repeat(100), "中".repeat(100)];
  await sink.write(Array.from({ length: 6 }, (_, i) => ({
    key: String(i),
    value: titles[i % 2],
    timestamp: 0,
    headers: {},
  })));
  await sink.flush();
  // 1 + 400 + 64 = 465 and 1 + 300 + 64 = 365 bytes: two records fit in 1000, three do not.
  assert.deepEqual(batches.map((b) => b.map((r) => r.key)), [["0", "1"], ["2", "3"], ["4", "5"]]);
  const encoder = new TextEncoder();
  for (const batch of batches) {
    const bytes = batch.reduce(
      (sum, r) => sum + encoder.encode(r.key).length + encoder.encode(r.value!).length + 64,
      0,
    );
    assert.ok(bytes <= 1000, `${bytes} bytes`);
  }
});
