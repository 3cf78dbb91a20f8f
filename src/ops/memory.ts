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
import { getLogger } from "@logtape/logtape";

/**
 * The process's memory beside the V8 heap (runtime, code, buffers), from
 * `deno task bench:memory`: peak resident set minus peak heap, with margin.
 */
export const NON_HEAP_BYTES = 112 * 1024 * 1024;

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

/**
 * The memory limit of the process's cgroup (a container's or a systemd
 * unit's), or null when there is none or it cannot be read.
 */
export function cgroupMemoryLimit(
  read: (path: string) => string = (path) => Deno.readTextFileSync(path),
): number | null {
  for (const path of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    // "max" (v2), or v1's page-rounded 2^63 for no limit.
    return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
  }
  return null;
}

/**
 * The heap the service can count on: V8's limit, or less when the cgroup's
 * memory limit leaves less room beside the runtime (the kernel would kill
 * the process before V8 reached its own limit).
 */
export function usableHeapBytes(
  heapLimit = heapLimitBytes(),
  cgroupLimit = cgroupMemoryLimit(),
): number {
  return cgroupLimit === null ? heapLimit : Math.min(heapLimit, cgroupLimit - NON_HEAP_BYTES);
}

/**
 * One line for start-up when the cgroup gives the process less memory than
 * the V8 heap limit and the runtime need together, else null.
 */
export function memoryLimitWarning(heapLimit: number, cgroupLimit: number | null): string | null {
  if (cgroupLimit === null || cgroupLimit >= heapLimit + NON_HEAP_BYTES) return null;
  const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));
  return `the memory limit of this process (${
    mb(cgroupLimit)
  } MB, its container or unit) is below its V8 heap limit of ${mb(heapLimit)} MB plus about ${
    mb(NON_HEAP_BYTES)
  } MB for the runtime: the live set may hold at most ${
    liveStreamCapacity(cgroupLimit - NON_HEAP_BYTES)
  } streams; raise the memory limit to ${
    mb(heapLimit + NON_HEAP_BYTES)
  } MB (Compose mem_limit, systemd MemoryMax), or lower ${MAX_OLD_SPACE_FLAG} with it`;
}

/** The most live streams a heap of `limitBytes` holds through a scan. */
export function liveStreamCapacity(limitBytes = usableHeapBytes()): number {
  return Math.max(0, Math.floor((limitBytes - HEAP_BASE_BYTES) / HEAP_BYTES_PER_STREAM));
}

/** The heap, in MB, that `streams` live streams need. */
export function heapNeededMb(streams: number): number {
  return Math.ceil((HEAP_BASE_BYTES + streams * HEAP_BYTES_PER_STREAM) / (1024 * 1024));
}

/** Logs {@linkcode memoryLimitWarning}'s line at start-up, when there is one. */
export function warnAboutMemoryLimit(): void {
  const warning = memoryLimitWarning(heapLimitBytes(), cgroupMemoryLimit());
  if (warning !== null) getLogger(["datagen", "service"]).warn("{warning}", { warning });
}
