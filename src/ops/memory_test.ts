import assert from "node:assert/strict";
import {
  HEAP_BASE_BYTES,
  HEAP_BYTES_PER_STREAM,
  heapNeededMb,
  liveStreamCapacity,
} from "./memory.ts";

Deno.test("a heap holds the live streams that fit beside the base, and none below it", () => {
  assert.equal(liveStreamCapacity(HEAP_BASE_BYTES), 0);
  assert.equal(liveStreamCapacity(HEAP_BASE_BYTES - 1), 0);
  assert.equal(liveStreamCapacity(HEAP_BASE_BYTES + 1000 * HEAP_BYTES_PER_STREAM), 1000);
});

Deno.test("the heap a number of streams needs is the one that holds them", () => {
  for (const streams of [0, 1, 100_000, 1_000_000]) {
    const mb = heapNeededMb(streams);
    assert.ok(liveStreamCapacity(mb * 1024 * 1024) >= streams, `${streams}`);
    assert.ok(liveStreamCapacity((mb - 1) * 1024 * 1024) < streams || streams === 0, `${streams}`);
  }
});
