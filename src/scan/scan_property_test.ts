/**
 * Property tests of the scan: random worlds and random fault schedules
 * (Helix errors, invalid cursors, a looping last cursor and hanging calls, a Kafka failure at any write or at the
 * flush, an abort at any call or write), each checked against the scan's
 * invariants. Seeded: set SCAN_PROPERTY_SEED to replay a run; a failure
 * names the seed of its schedule.
 */

import assert from "node:assert/strict";
import { runScan, type ScanOutcome } from "./scan.ts";
import type { LiveState } from "./endings.ts";
import { type HelixStream, MAX_BROADCAST_MS } from "../helix/stream.ts";
import { liveStream } from "./record.ts";
import { HelixError, type HelixQuery } from "../helix/client.ts";
import {
  createFakeSource,
  createMemorySink,
  type FakeSource,
  fakeStream,
  type MemorySink,
} from "./_test_utils.ts";
import { Prng } from "../sim/prng.ts";
import { type Selection, selects } from "./selection.ts";

const NOW = Date.parse("2026-11-29T12:00:00Z");
const LANGUAGES = ["en", "de", "fr"];
const SCHEDULES = 1000;

/** One random world and fault schedule. */
interface Schedule {
  previous: LiveState | null;
  listed: HelixStream[];
  live: HelixStream[];
  queries: HelixQuery[];
  selection?: Selection;
  maxStreams?: number;
  concurrency: number;
  pageSize: number;
  /** Per call: the chance of an error. */
  errorRate: number;
  /** The last page's cursor leads back to page 1. */
  loop: boolean;
  /** A look-up's "gone" is confirmed by a second look-up. */
  confirmEnds: boolean;
  /** Per call with a cursor: the chance of a 400 invalid cursor. */
  badCursorRate: number;
  /** Per call: the chance of hanging (only when an abort is scheduled). */
  hangRate: number;
  abortAtCall?: number;
  abortAtWrite?: number;
  failWriteAt?: number;
  failFlush: boolean;
}

function generate(rng: Prng): Schedule {
  const big = rng.chance(0.05);
  const users = big ? rng.int(100, 250) : rng.int(1, 30);
  const started = new Date(NOW - 3_600_000).toISOString();
  const stale = new Date(NOW - MAX_BROADCAST_MS - 3_600_000).toISOString();
  const live: HelixStream[] = [];
  const listed: HelixStream[] = [];
  const previousStreams: HelixStream[] = [];
  let next = 0;
  const stream = (user: number, fields: Partial<HelixStream> = {}) =>
    fakeStream(`s${next++}`, {
      user_id: `u${user}`,
      language: rng.pick(LANGUAGES),
      viewer_count: rng.int(0, 5000),
      started_at: started,
      ...fields,
    });
  for (let user = 0; user < users; user++) {
    const fate = rng.int(0, 9);
    if (fate <= 3) {
      // Live before and now; listed, or missed by paging.
      const s = stream(user);
      previousStreams.push(s);
      live.push(s);
      if (rng.chance(0.85)) listed.push(s);
    } else if (fate <= 5) {
      // Ended; the channel may have gone live again under a new id.
      previousStreams.push(stream(user));
      if (rng.chance(0.5)) {
        const again = stream(user);
        live.push(again);
        if (rng.chance(0.7)) listed.push(again);
      }
    } else if (fate === 6) {
      // Past 48 hours: still listed now and then.
      const s = stream(user, { started_at: stale });
      previousStreams.push(s);
      if (rng.chance(0.5)) {
        live.push(s);
        listed.push(s);
      }
    } else {
      // New since the last scan.
      const s = stream(user);
      live.push(s);
      if (rng.chance(0.9)) listed.push(s);
    }
  }
  // Helix lists by viewers; paging shows some streams twice, at a later position with the
  // lower viewer count that moved them there.
  listed.sort((a, b) => b.viewer_count - a.viewer_count);
  for (let k = rng.int(0, 3); k > 0 && listed.length > 0; k--) {
    const at = rng.int(0, listed.length - 1);
    const to = rng.int(at + 1, listed.length);
    const viewers = Math.min(listed[at].viewer_count, listed[to - 1].viewer_count);
    listed.splice(to, 0, { ...listed[at], viewer_count: viewers });
  }
  const abort = rng.int(0, 2);
  // A narrowed language filter, a top N, or the whole directory.
  const shape = rng.int(0, 9);
  const languages = shape <= 1 ? LANGUAGES.slice(0, rng.int(1, 2)) : LANGUAGES;
  const queries = shape === 2 || rng.chance(0.5)
    ? [shape <= 1 ? { language: languages } : {}]
    : languages.map((l) => ({ language: [l] }));
  return {
    selection: shape <= 1 ? { languages, gameIds: [], userLogins: [] } : undefined,
    maxStreams: shape === 2 ? rng.int(1, Math.max(1, listed.length)) : undefined,
    previous: rng.chance(0.9) ? new Map(previousStreams.map((s) => [s.id, liveStream(s)])) : null,
    listed,
    live,
    queries,
    concurrency: rng.int(1, 4),
    pageSize: rng.pick([2, 5, 10, 100]),
    errorRate: rng.chance(0.3) ? 0.1 : 0,
    loop: rng.chance(0.3),
    confirmEnds: rng.chance(0.3),
    badCursorRate: rng.chance(0.2) ? 0.3 : 0,
    hangRate: abort === 0 ? 0 : 0.2,
    abortAtCall: abort === 1 ? rng.int(0, 12) : undefined,
    abortAtWrite: abort === 2 ? rng.int(0, 8) : undefined,
    failWriteAt: rng.chance(0.2) ? rng.int(0, 8) : undefined,
    failFlush: rng.chance(0.1),
  };
}

interface Run {
  outcome: ScanOutcome;
  source: FakeSource;
  sink: MemorySink;
  abortedAt: number | null;
  returnedAt: number;
}

async function run(schedule: Schedule, rng: Prng): Promise<Run> {
  const shutdown = new AbortController();
  let abortedAt: number | null = null;
  const abortSoon = () =>
    setTimeout(() => {
      if (abortedAt === null) abortedAt = performance.now();
      shutdown.abort();
    }, rng.int(0, 2));
  const source = createFakeSource({
    listed: schedule.listed,
    live: schedule.live,
    pageSize: schedule.pageSize,
    now: () => NOW,
    loop: schedule.loop,
    onCall: (call) => {
      if (call.index === schedule.abortAtCall) abortSoon();
    },
    fault: (call) => {
      if (rng.chance(schedule.hangRate)) {
        // Shutdown arrives while the call is pending (a slow answer, a rate-limit wait).
        abortSoon();
        return "hang";
      }
      if (rng.chance(schedule.errorRate)) return new Error("Helix answered 503");
      if (call.cursor !== undefined && rng.chance(schedule.badCursorRate)) {
        return new HelixError("Helix answered 400 (invalid cursor)", {
          status: 400,
          retryable: false,
        });
      }
      return undefined;
    },
  });
  const sink = createMemorySink({
    failWriteAt: schedule.failWriteAt,
    failFlush: schedule.failFlush,
    onWrite: (index) => {
      if (index === schedule.abortAtWrite) abortSoon();
    },
  });
  const outcome = await runScan({
    source,
    sink,
    plan: { queries: schedule.queries, sharded: schedule.queries.length > 1 },
    previous: schedule.previous,
    scanId: "scan",
    concurrency: schedule.concurrency,
    selection: schedule.selection,
    maxStreams: schedule.maxStreams,
    signal: shutdown.signal,
    now: () => NOW,
    cursorRetryMs: 0,
    confirmEndsMs: schedule.confirmEnds ? 0 : undefined,
  });
  const returnedAt = performance.now();
  // A hanging call that no abort reached would hang the scan: end it now.
  shutdown.abort();
  return { outcome, source, sink, abortedAt, returnedAt };
}

function check(schedule: Schedule, { outcome, source, sink, abortedAt, returnedAt }: Run) {
  const { summary, state } = outcome;
  const acknowledged = new Map(sink.acknowledged.map((r) => [r.key, r]));

  // 1. No id leaves the live state unless Kafka acknowledged its tombstone.
  if (schedule.previous !== null) {
    assert.ok(state !== null);
    for (const id of schedule.previous.keys()) {
      if (state.has(id)) continue;
      const record = acknowledged.get(id);
      assert.ok(record !== undefined && record.value === null, `${id} left without a tombstone`);
    }
  }

  // 2. At most one record per key per scan, look-ups included.
  const keys = sink.written.map((r) => r.key);
  assert.equal(new Set(keys).size, keys.length, `a key was written twice: ${keys.join(",")}`);

  // 3. An `ended` tombstone only when a look-up answer shows the stream gone.
  for (const record of sink.written) {
    if (record.headers["end-reason"] !== "ended") continue;
    const userId = schedule.previous?.get(record.key)?.userId;
    assert.ok(userId !== undefined, `${record.key} ended but was not live before`);
    const shown = source.lookups.some((l) =>
      l.userIds.includes(userId) && !l.answered.some((s) => s.id === record.key)
    );
    assert.ok(shown, `${record.key} ended without a look-up that shows it gone`);
  }

  // 4. An ok scan leaves a record or tombstone for every stream any of its pages listed.
  if (summary.result === "ok") {
    for (const page of source.pages) {
      for (const s of page.streams) assert.ok(acknowledged.has(s.id), `${s.id} was not produced`);
    }
    // And the state is what the topic now says.
    if (state !== null) {
      const live = [...acknowledged.values()].filter((r) => r.value !== null).map((r) => r.key);
      assert.deepEqual([...state.keys()].sort(), live.sort());
      // The topic holds exactly what the configuration selects.
      for (const [id, stream] of state) {
        assert.ok(!schedule.selection || selects(schedule.selection, stream), `${id} not selected`);
      }
    }
  }

  // 5. An aborted scan returns within a second and sends what it had fetched.
  if (abortedAt !== null && summary.result === "aborted") {
    assert.ok(returnedAt - abortedAt < 1000, `returned ${returnedAt - abortedAt} ms after abort`);
  }
  if (!sink.failed) {
    const written = new Set(keys);
    for (const page of source.pages) {
      for (const s of page.streams) assert.ok(written.has(s.id), `fetched ${s.id} was not sent`);
    }
  }
  if (summary.result === "ok") assert.equal(sink.failed, false);
}

Deno.test(`the scan keeps its invariants over ${SCHEDULES} random fault schedules`, async () => {
  const base = Number(Deno.env.get("SCAN_PROPERTY_SEED") ?? Date.now() % 1_000_000_000);
  const results = { ok: 0, failed: 0, aborted: 0 };
  for (let i = 0; i < SCHEDULES; i++) {
    const seed = base + i;
    const rng = new Prng(seed);
    const schedule = generate(rng);
    try {
      const outcome = await run(schedule, rng);
      check(schedule, outcome);
      results[outcome.outcome.summary.result]++;
    } catch (error) {
      throw new Error(
        `schedule ${i} failed; replay with SCAN_PROPERTY_SEED=${seed}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  console.log(`${SCHEDULES} schedules from SCAN_PROPERTY_SEED=${base}: ${JSON.stringify(results)}`);
  // The schedules must reach every outcome, or the faults are not being exercised.
  assert.ok(
    results.ok > 100 && results.failed > 100 && results.aborted > 100,
    `${JSON.stringify(results)}`,
  );
});
