/**
 * How many live streams the V8 heap can hold. The heap limit is fixed when
 * the process starts (`--max-old-space-size` in the start and compile
 * tasks; a compiled binary cannot change it), so the start-up rebuild checks
 * the live set against it while reading, and stops with one line that names
 * the limit, instead of a V8 out-of-memory crash that a supervisor would
 * restart into again and again.
 *
 * @module
 */

import v8 from "node:v8";

/** The V8 heap flag of the start and compile tasks, in MB: the one memory setting. */
export const MAX_OLD_SPACE_FLAG = "--max-old-space-size";

/**
 * Heap one live stream needs while the service runs, measured by
 * `deno task bench:memory` with margin: the live set twice during a scan
 * (the previous one and the next), the scan's set of seen ids, and what a
 * stream's share of garbage is before a collection.
 */
export const HEAP_BYTES_PER_STREAM = 250;

/** Heap the service needs whatever the scale: code, clients, a scan's pages and batches in flight. */
export const HEAP_BASE_BYTES = 96 * 1024 * 1024;

/** The heap the process may use, in bytes (old and young generations). */
export function heapLimitBytes(): number {
  return v8.getHeapStatistics().heap_size_limit;
}

/** The most live streams a heap of `limitBytes` holds through a scan. */
export function liveStreamCapacity(limitBytes = heapLimitBytes()): number {
  return Math.max(0, Math.floor((limitBytes - HEAP_BASE_BYTES) / HEAP_BYTES_PER_STREAM));
}

/** The heap, in MB, that `streams` live streams need. */
export function heapNeededMb(streams: number): number {
  return Math.ceil((HEAP_BASE_BYTES + streams * HEAP_BYTES_PER_STREAM) / (1024 * 1024));
}
