import assert from "node:assert/strict";
import {
  cgroupMemoryLimit,
  HEAP_BASE_BYTES,
  HEAP_BYTES_PER_STREAM,
  heapNeededMb,
  liveStreamCapacity,
  memoryLimitWarning,
  NON_HEAP_BYTES,
  usableHeapBytes,
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

Deno.test("the cgroup limit is read from cgroup v2, then v1, and no limit is null", () => {
  const files = (map: Record<string, string>) => (path: string) => {
    if (path in map) return map[path];
    throw new Deno.errors.NotFound(path);
  };
  assert.equal(cgroupMemoryLimit(files({ "/sys/fs/cgroup/memory.max": "536870912\n" })), 536870912);
  assert.equal(cgroupMemoryLimit(files({ "/sys/fs/cgroup/memory.max": "max\n" })), null);
  assert.equal(
    cgroupMemoryLimit(
      files({ "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n" }),
    ),
    null,
  );
  assert.equal(
    cgroupMemoryLimit(files({ "/sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456" })),
    268435456,
  );
  assert.equal(cgroupMemoryLimit(files({})), null);
});

Deno.test("a cgroup limit below the heap and the runtime lowers the usable heap and warns once", () => {
  const MiB = 1024 * 1024;
  const heap = 396 * MiB;
  assert.equal(usableHeapBytes(heap, null), heap);
  assert.equal(usableHeapBytes(heap, 1024 * MiB), heap);
  assert.equal(usableHeapBytes(heap, 256 * MiB), 256 * MiB - NON_HEAP_BYTES);
  assert.equal(memoryLimitWarning(heap, null), null);
  assert.equal(memoryLimitWarning(heap, heap + NON_HEAP_BYTES), null);
  assert.match(
    memoryLimitWarning(heap, 256 * MiB)!,
    /^the memory limit of this process \(256 MB, its container or unit\) is below its V8 heap limit of 396 MB plus about 112 MB for the runtime: the live set may hold at most \d+ streams; raise the memory limit to 508 MB \(Compose mem_limit, systemd MemoryMax\), or lower --max-old-space-size with it$/,
  );
});
