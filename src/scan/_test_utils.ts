/**
 * Fake edges for testing a scan in milliseconds: a stream source that
 * answers from a list, with latency, failures, hanging calls (a rate-limit
 * wait, a request that never answers) and a hook to abort at a chosen call;
 * and an in-memory record sink with acknowledgements and chosen failures.
 *
 * @module
 */

import type { HelixQuery, StreamPage, StreamSource } from "../helix/client.ts";
import type { RecordSink } from "./batcher.ts";
import type { HelixStream } from "../helix/stream.ts";
import type { StreamRecord } from "./record.ts";

/** One call the fake source received. */
export interface FakeCall {
  /** 0-based, in the order calls arrived. */
  index: number;
  query: HelixQuery;
  cursor?: string;
  first: number;
  /** Whether this is a look-up by user id. */
  lookup: boolean;
}

/** What a call does instead of answering: throw, or hang until the signal aborts. */
export type FakeFault = Error | "hang";

/** How a fake source behaves. */
export interface FakeSourceOptions {
  /** The listing, in Helix's order: what paging shows (a stream may be listed twice). */
  listed: readonly HelixStream[];
  /** The streams live now, answered to look-ups by user id (default: the listed ones). */
  live?: readonly HelixStream[];
  /** Milliseconds before each answer (default 0: answered in a microtask). */
  latencyMs?: number;
  /** Most streams on one page, whatever `first` asks (default 100). */
  pageSize?: number;
  /** Decides, per call, to fail or hang instead of answering. */
  fault?: (call: FakeCall) => FakeFault | undefined;
  /** Called as each call arrives, before it is answered (e.g. to abort the scan there). */
  onCall?: (call: FakeCall) => void;
  /** The clock stamped on pages (default `Date.now`). */
  now?: () => number;
  /** The last page carries a cursor back to page 1, as Helix's sometimes does. */
  loop?: boolean;
}

/** A look-up and what it answered. */
export interface FakeLookup {
  userIds: string[];
  answered: HelixStream[];
}

/** A fake stream source and what it saw. */
export interface FakeSource extends StreamSource {
  readonly calls: FakeCall[];
  /** Listing pages answered (not failed), in order; look-ups are kept apart. */
  readonly pages: StreamPage[];
  /** Answered look-ups. */
  readonly lookups: FakeLookup[];
}

function matches(query: HelixQuery, stream: HelixStream): boolean {
  if (query.language && !query.language.includes(stream.language)) return false;
  if (query.game_id && !query.game_id.includes(stream.game_id)) return false;
  if (query.user_login && !query.user_login.includes(stream.user_login.toLowerCase())) {
    return false;
  }
  if (query.user_id && !query.user_id.includes(stream.user_id)) return false;
  return true;
}

function abortError(): Error {
  return new DOMException("The operation was aborted", "AbortError");
}

/** Waits `ms`, or rejects when `signal` aborts; `Infinity` waits for the abort alone. */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    signal?.addEventListener("abort", stop, { once: true });
    function done() {
      signal?.removeEventListener("abort", stop);
      resolve();
    }
    function stop() {
      clearTimeout(timer);
      reject(abortError());
    }
  });
}

/** Creates a fake source over a fixed listing. Cursors are offsets into the filtered listing. */
export function createFakeSource(options: FakeSourceOptions): FakeSource {
  const now = options.now ?? Date.now;
  const calls: FakeCall[] = [];
  const pages: StreamPage[] = [];
  const lookups: FakeLookup[] = [];
  const live = options.live ?? options.listed;
  return {
    calls,
    pages,
    lookups,
    async fetchPage(query, { cursor, first = 100, signal } = {}) {
      const call: FakeCall = {
        index: calls.length,
        query,
        cursor,
        first,
        lookup: query.user_id !== undefined,
      };
      calls.push(call);
      options.onCall?.(call);
      const fault = options.fault?.(call);
      if (fault === "hang") await wait(Infinity, signal);
      if (options.latencyMs) await wait(options.latencyMs, signal);
      else await Promise.resolve();
      if (signal?.aborted) throw abortError();
      if (fault instanceof Error) throw fault;
      if (call.lookup) {
        const answered = live.filter((s) => matches(query, s)).slice(0, first);
        lookups.push({ userIds: [...query.user_id!], answered });
        return { streams: answered, fetchedAt: now() };
      }
      const all = options.listed.filter((s) => matches(query, s));
      const offset = cursor === undefined ? 0 : Number(cursor);
      const size = Math.min(first, options.pageSize ?? 100);
      const streams = all.slice(offset, offset + size);
      const next = offset + size < all.length
        ? String(offset + size)
        : options.loop && all.length > 0
        ? "0"
        : undefined;
      const page = { streams, cursor: next, fetchedAt: now() };
      pages.push(page);
      return page;
    },
    rateLimitRemaining() {
      return 800 - calls.length;
    },
    budget() {
      return { spent: calls.length, perMinute: 800 };
    },
  };
}

/** How an in-memory sink behaves. */
export interface MemorySinkOptions {
  /** The write call (0-based) that fails; it and everything after it are lost. */
  failWriteAt?: number;
  /** Whether the final flush fails (what was pending is lost). */
  failFlush?: boolean;
  /** Called as each write arrives (e.g. to abort the scan there). */
  onWrite?: (index: number) => void;
}

/** An in-memory sink and what it holds. */
export interface MemorySink extends RecordSink {
  /** Every record handed to `write`, acknowledged or not. */
  readonly written: StreamRecord[];
  /** Records Kafka would have acknowledged. */
  readonly acknowledged: StreamRecord[];
  /** Whether a write or the flush failed. */
  readonly failed: boolean;
}

/**
 * Creates a sink that behaves like the batcher: a write is sent while the
 * next one fills, so a successful write acknowledges the previous write's
 * records and a flush acknowledges the rest. The first failure sticks.
 */
export function createMemorySink(options: MemorySinkOptions = {}): MemorySink {
  const written: StreamRecord[] = [];
  const acknowledged: StreamRecord[] = [];
  let pending: StreamRecord[] = [];
  let failure: Error | null = null;
  let writes = 0;
  return {
    written,
    acknowledged,
    get failed() {
      return failure !== null;
    },
    async write(records) {
      const index = writes++;
      options.onWrite?.(index);
      await Promise.resolve();
      written.push(...records);
      if (failure !== null) throw failure;
      if (index === options.failWriteAt) {
        failure = new Error(`broker refused batch ${index}`);
        pending = [];
        throw failure;
      }
      acknowledged.push(...pending);
      pending = [...records];
    },
    async flush() {
      await Promise.resolve();
      if (failure !== null) throw failure;
      if (options.failFlush) {
        failure = new Error("broker went away before the flush");
        pending = [];
        throw failure;
      }
      acknowledged.push(...pending);
      pending = [];
    },
  };
}

/** Makes a Helix stream object for tests; every field derived from `id` unless given. */
export function fakeStream(
  id: string,
  fields: Partial<HelixStream> = {},
): HelixStream {
  return {
    id,
    user_id: `u${id}`,
    user_login: `user_${id}`,
    user_name: `User_${id}`,
    game_id: "509658",
    game_name: "Just Chatting",
    type: "live",
    title: `stream ${id}`,
    tags: ["English"],
    viewer_count: 100,
    started_at: "2026-11-29T10:00:00Z",
    language: "en",
    thumbnail_url: `https://example.invalid/${id}-{width}x{height}.jpg`,
    tag_ids: [],
    is_mature: false,
    ...fields,
  };
}
