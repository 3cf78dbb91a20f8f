import assert from "node:assert/strict";
import { runScan, type ScanOptions } from "./scan.ts";
import { WatchLedger } from "../eventsub/ledger.ts";
import { createMetrics, recordScan } from "../ops/metrics.ts";
import type { LiveState } from "./endings.ts";
import type { HelixStream } from "../helix/stream.ts";
import { liveStream } from "./record.ts";
import {
  createFakeSource,
  createMemorySink,
  type FakeSourceOptions,
  fakeStream,
  type MemorySinkOptions,
} from "./_test_utils.ts";

const NOW = Date.parse("2026-11-29T12:00:00Z");

function stateOf(...streams: HelixStream[]): LiveState {
  return new Map(streams.map((s) => [s.id, liveStream(s)]));
}

function scan(
  source: FakeSourceOptions,
  options: Partial<ScanOptions> & { sinkOptions?: MemorySinkOptions } = {},
) {
  const fake = createFakeSource({ now: () => NOW, ...source });
  const sink = createMemorySink(options.sinkOptions);
  const run = runScan({
    source: fake,
    sink,
    plan: { queries: [{}], sharded: false },
    previous: null,
    scanId: "scan-1",
    concurrency: 4,
    now: () => NOW,
    ...options,
  });
  return { fake, sink, run };
}

function keys(records: { key: string }[]): string[] {
  return records.map((r) => r.key);
}

Deno.test("a tombstone that Kafka never acknowledges keeps its stream in the state", async () => {
  const gone = fakeStream("1");
  const stays = fakeStream("2");
  const { sink, run } = scan({ listed: [stays] }, {
    previous: stateOf(gone, stays),
    sinkOptions: { failFlush: true },
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "failed");
  assert.deepEqual(keys(sink.written), ["2", "1"]);
  assert.deepEqual([...state!.keys()].sort(), ["1", "2"]);
  // Nothing was acknowledged, so no tombstone counts.
  assert.equal(summary.ended, 0);
});

Deno.test("a failed tombstone write fails the scan and keeps the stream in the state", async () => {
  const gone = fakeStream("1");
  const stays = fakeStream("2");
  // Write 0 carries the listed stream, write 1 the tombstone.
  const { run } = scan({ listed: [stays] }, {
    previous: stateOf(gone, stays),
    sinkOptions: { failWriteAt: 1 },
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "failed");
  assert.equal(summary.failure?.stage, "kafka");
  assert.deepEqual([...state!.keys()].sort(), ["1", "2"]);
  assert.equal(summary.ended, 0);
});

Deno.test("a user whose missing streams fall into two look-up batches is produced once", async () => {
  // 101 missing streams: users u0..u99, and u0 again (an older stream of the same channel).
  const missing = Array.from({ length: 100 }, (_, i) => fakeStream(`m${i}`, { user_id: `u${i}` }));
  missing.push(fakeStream("m100", { user_id: "u0" }));
  const restarted = fakeStream("x0", { user_id: "u0" });
  const { sink, run } = scan({ listed: [], live: [restarted] }, {
    previous: stateOf(...missing),
  });
  const { summary } = await run;
  assert.equal(summary.result, "ok");
  assert.deepEqual(keys(sink.written).filter((k) => k === "x0"), ["x0"]);
  assert.equal(sink.written.filter((r) => r.value === null).length, 101);
});

Deno.test("a look-up that fails stops the look-ups and keeps the rest in the state", async () => {
  const missing = Array.from({ length: 150 }, (_, i) => fakeStream(`m${i}`));
  const { fake, run } = scan({
    listed: [],
    live: [],
    fault: (call) => call.lookup ? new Error("Helix answered 503") : undefined,
  }, { previous: stateOf(...missing) });
  const { summary, state } = await run;
  assert.equal(fake.calls.filter((c) => c.lookup).length, 1);
  assert.deepEqual(summary.failure, { stage: "lookup", message: "Helix answered 503" });
  assert.equal(state!.size, 150);
});

Deno.test("a look-up interrupted by shutdown is reported as aborted, and no look-up follows", async () => {
  const missing = Array.from({ length: 150 }, (_, i) => fakeStream(`m${i}`));
  const shutdown = new AbortController();
  const { fake, run } = scan({
    listed: [],
    live: [],
    fault: (call) => call.lookup ? "hang" : undefined,
    onCall: (call) => {
      if (call.lookup) setTimeout(() => shutdown.abort(), 5);
    },
  }, { previous: stateOf(...missing), signal: shutdown.signal });
  const { summary, state } = await run;
  assert.equal(summary.result, "aborted");
  assert.equal(summary.failure?.stage, "aborted");
  assert.equal(fake.calls.filter((c) => c.lookup).length, 1);
  assert.equal(state!.size, 150);
});

Deno.test("a Kafka failure while look-ups produce is reported as a Kafka failure", async () => {
  const missed = fakeStream("1");
  const { run } = scan({ listed: [], live: [missed] }, {
    previous: stateOf(missed),
    sinkOptions: { failWriteAt: 0 },
  });
  const { summary } = await run;
  assert.equal(summary.result, "failed");
  assert.deepEqual(summary.failure, { stage: "kafka", message: "broker refused batch 0" });
});

Deno.test("an aborted scan sends every stream it had fetched, held-back pages included", async () => {
  const listed = Array.from({ length: 450 }, (_, i) => fakeStream(`s${i}`));
  const shutdown = new AbortController();
  const { fake, sink, run } = scan({
    listed,
    fault: (call) => call.index === 3 ? "hang" : undefined,
    onCall: (call) => {
      if (call.index === 3) setTimeout(() => shutdown.abort(), 5);
    },
  }, { signal: shutdown.signal });
  const { summary } = await run;
  assert.equal(summary.result, "aborted");
  assert.equal(fake.pages.length, 3);
  assert.deepEqual(keys(sink.acknowledged), listed.slice(0, 300).map((s) => s.id));
});

Deno.test("an aborted scan returns within a second while a call hangs", async () => {
  const shutdown = new AbortController();
  const { run } = scan({
    listed: [fakeStream("1")],
    fault: () => "hang",
    onCall: () => setTimeout(() => shutdown.abort(), 5),
  }, { signal: shutdown.signal });
  const started = performance.now();
  const { summary } = await run;
  assert.ok(performance.now() - started < 1000);
  assert.equal(summary.result, "aborted");
});

const ALL = { languages: [], gameIds: [], userLogins: [] };

function tombstones(
  records: { key: string; value: string | null; headers: Record<string, string> }[],
) {
  return records.filter((r) => r.value === null).map((r) => [r.key, r.headers["end-reason"]]);
}

Deno.test("streams outside a narrowed language filter are deselected without a look-up", async () => {
  const en = fakeStream("1", { language: "en" });
  const de = fakeStream("2", { language: "de" });
  const { fake, sink, run } = scan({ listed: [en], live: [en, de] }, {
    plan: { queries: [{ language: ["en"] }], sharded: false },
    previous: stateOf(en, de),
    selection: { ...ALL, languages: ["en"] },
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "ok");
  assert.deepEqual(tombstones(sink.acknowledged), [["2", "deselected"]]);
  assert.equal(fake.calls.filter((c) => c.lookup).length, 0);
  assert.equal(summary.deselected, 1);
  assert.deepEqual([...state!.keys()], ["1"]);
});

Deno.test("a stream that changes category and leaves a game filter is deselected", async () => {
  const before = fakeStream("1", { game_id: "509658" });
  const moved = fakeStream("1", { game_id: "32982" });
  const { sink, run } = scan({ listed: [], live: [moved] }, {
    plan: { queries: [{ game_id: ["509658"] }], sharded: false },
    previous: stateOf(before),
    selection: { ...ALL, gameIds: ["509658"] },
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "ok");
  assert.deepEqual(tombstones(sink.acknowledged), [["1", "deselected"]]);
  assert.equal(sink.acknowledged.length, 1);
  assert.equal(summary.recovered, 0);
  assert.equal(state!.size, 0);
});

Deno.test("under MAX_STREAMS a stream below the cut is deselected, a gone one ended, a missed one recovered", async () => {
  const top = [900, 800, 700].map((v, i) => fakeStream(`t${i}`, { viewer_count: v }));
  const below = fakeStream("b", { viewer_count: 10 });
  const missed = fakeStream("m", { viewer_count: 750 });
  const gone = fakeStream("g", { viewer_count: 500 });
  const { sink, run } = scan({ listed: [...top, below], live: [...top, below, missed] }, {
    previous: stateOf(below, missed, gone),
    maxStreams: 3,
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "ok");
  assert.deepEqual(tombstones(sink.acknowledged).sort(), [["b", "deselected"], ["g", "ended"]]);
  assert.deepEqual(keys(sink.acknowledged.filter((r) => r.value !== null)).sort(), [
    "m",
    "t0",
    "t1",
    "t2",
  ]);
  assert.deepEqual([...state!.keys()].sort(), ["m", "t0", "t1", "t2"]);
});

Deno.test("datagen_tombstones_total counts a tombstone only once Kafka acknowledged it", async () => {
  const gone = fakeStream("1");
  const lost = await scan({ listed: [] }, {
    previous: stateOf(gone),
    sinkOptions: { failFlush: true },
  }).run;
  const kept = await scan({ listed: [] }, { previous: stateOf(gone) }).run;
  const metrics = createMetrics();
  recordScan(metrics, lost.summary, NOW);
  const before = await metrics.registry.getSingleMetricAsString("datagen_tombstones_total");
  assert.match(before, /datagen_tombstones_total\{reason="ended"\} 0/);
  recordScan(metrics, kept.summary, NOW);
  const after = await metrics.registry.getSingleMetricAsString("datagen_tombstones_total");
  assert.match(after, /datagen_tombstones_total\{reason="ended"\} 1/);
});

Deno.test("a page fetched before a stream.offline event does not bring the stream back", async () => {
  const ended = fakeStream("1", { user_id: "42" });
  const other = fakeStream("2");
  const ledger = new WatchLedger();
  ledger.note("42", { type: "offline", at: NOW + 1 });
  const { sink, run } = scan({ listed: [ended, other] }, {
    previous: stateOf(ended, other),
    events: ledger,
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "ok");
  // No live record: a tombstone of its own, since the event's may have failed.
  assert.deepEqual(keys(sink.written), ["1", "2"]);
  assert.equal(sink.written[0].value, null);
  assert.equal(sink.written[0].headers["end-reason"], "offline");
  assert.equal(summary.superseded, 1);
  assert.equal(summary.lookups, 0);
  assert.deepEqual([...state!.keys()], ["2"]);
});

Deno.test("a page fetched after a stream.offline event is the newer observation and wins", async () => {
  const back = fakeStream("1", { user_id: "42" });
  const ledger = new WatchLedger();
  ledger.note("42", { type: "offline", at: NOW - 1 });
  const { sink, run } = scan({ listed: [back] }, { previous: stateOf(back), events: ledger });
  const { summary } = await run;
  assert.deepEqual(keys(sink.written), ["1"]);
  assert.equal(summary.superseded, 0);
});

Deno.test("a newer stream.online of another broadcast overrules the old one, not the new", async () => {
  const old = fakeStream("1", { user_id: "42" });
  const fresh = fakeStream("9", { user_id: "42" });
  const ledger = new WatchLedger();
  ledger.note("42", { type: "online", at: NOW + 1, streamId: "9" });
  const { sink, run } = scan({ listed: [old, fresh] }, { previous: stateOf(old), events: ledger });
  const { summary } = await run;
  assert.deepEqual(keys(sink.written), ["1", "9"]);
  assert.equal(sink.written[0].value, null);
  assert.notEqual(sink.written[1].value, null);
  assert.equal(summary.superseded, 1);
});

Deno.test("a look-up answered before a newer stream.offline event does not recover the stream", async () => {
  const missing = fakeStream("1", { user_id: "42" });
  const ledger = new WatchLedger();
  ledger.note("42", { type: "offline", at: NOW + 1 });
  const { sink, run } = scan({ listed: [], live: [missing] }, {
    previous: stateOf(missing),
    events: ledger,
  });
  const { summary } = await run;
  assert.equal(summary.lookups, 1);
  assert.deepEqual(keys(sink.written), ["1"]);
  assert.equal(sink.written[0].value, null);
  assert.equal(summary.superseded, 1);
});

Deno.test("a scan reports the rate-limit points it paid and how long they take at the rate limit", async () => {
  const listed = Array.from({ length: 250 }, (_, i) => fakeStream(String(i + 1)));
  const source = createFakeSource({ now: () => NOW, listed, pageSize: 100 });
  // Points paid before the scan are not its own.
  await source.fetchPage({}, {});
  const { summary } = await runScan({
    source,
    sink: createMemorySink(),
    plan: { queries: [{}], sharded: false },
    previous: null,
    scanId: "scan-1",
    concurrency: 4,
    now: () => NOW,
  });
  assert.equal(summary.result, "ok");
  assert.equal(summary.pages, 3);
  assert.equal(summary.points, 3);
  // 3 points at 800 a minute: 225 ms.
  assert.equal(summary.rateBoundMs, 225);
});

/** A source whose look-ups come from cache nodes that disagree: the n-th answer is `answers[n]`. */
function flappingLookups(listed: HelixStream[], answers: HelixStream[][]) {
  const lookups: string[][] = [];
  const source = createFakeSource({ listed, now: () => NOW });
  return {
    lookups,
    source: {
      ...source,
      fetchPage(query: Parameters<typeof source.fetchPage>[0], options = {}) {
        if (query.user_id === undefined) return source.fetchPage(query, options);
        lookups.push([...query.user_id]);
        return Promise.resolve({ streams: answers[lookups.length - 1] ?? [], fetchedAt: NOW });
      },
    },
  };
}

Deno.test("without a confirmation, one lagging node's empty look-up ends a live stream", async () => {
  const s = fakeStream("1", { user_id: "42" });
  const { source } = flappingLookups([], [[], [s]]);
  const sink = createMemorySink();
  const { summary } = await runScan({
    source,
    sink,
    plan: { queries: [{}], sharded: false },
    previous: stateOf(s),
    scanId: "scan-1",
    concurrency: 1,
    now: () => NOW,
  });
  assert.equal(summary.ended, 1);
  assert.deepEqual(sink.written.map((r) => [r.key, r.value === null]), [["1", true]]);
});

Deno.test("with confirmEndsMs a stream ends only when a second look-up finds it gone too", async () => {
  const live = fakeStream("1", { user_id: "42" });
  const gone = fakeStream("2", { user_id: "43" });
  // First answer (a lagging node): neither. Second: `1` is live after all.
  const { source, lookups } = flappingLookups([], [[], [live]]);
  const sink = createMemorySink();
  const { summary, state } = await runScan({
    source,
    sink,
    plan: { queries: [{}], sharded: false },
    previous: stateOf(live, gone),
    scanId: "scan-1",
    concurrency: 1,
    now: () => NOW,
    confirmEndsMs: 0,
  });
  assert.deepEqual(lookups, [["42", "43"], ["42", "43"]]);
  assert.equal(summary.result, "ok");
  assert.equal(summary.recovered, 1);
  assert.equal(summary.ended, 1);
  assert.deepEqual(sink.written.map((r) => [r.key, r.value === null]), [["1", false], ["2", true]]);
  assert.deepEqual([...state!.keys()], ["1"]);
});

Deno.test("with holdYoungMs a young stream a look-up finds gone stays as it was; an old one ends", async () => {
  const young = fakeStream("1", {
    user_id: "42",
    started_at: new Date(NOW - 120_000).toISOString(),
  });
  const old = fakeStream("2", {
    user_id: "43",
    started_at: new Date(NOW - 3_600_000).toISOString(),
  });
  const { sink, run } = scan({ listed: [], live: [] }, {
    previous: stateOf(young, old),
    holdYoungMs: 600_000,
  });
  const { summary, state } = await run;
  assert.equal(summary.result, "ok");
  assert.equal(summary.ended, 1);
  assert.deepEqual(sink.written.map((r) => [r.key, r.value === null]), [["2", true]]);
  // Held: looked up again at the next scan, ended once older than the horizon.
  assert.deepEqual([...state!.keys()], ["1"]);
});

Deno.test("with holdYoungMs a young stream an event ended is not held", async () => {
  const young = fakeStream("1", {
    user_id: "42",
    started_at: new Date(NOW - 120_000).toISOString(),
  });
  const ledger = new WatchLedger();
  ledger.end(["1"], NOW - 1000);
  const { sink, run } = scan({ listed: [], live: [] }, {
    previous: stateOf(young),
    holdYoungMs: 600_000,
    events: ledger,
  });
  const { state } = await run;
  assert.deepEqual(sink.written.map((r) => [r.key, r.value === null]), [["1", true]]);
  assert.equal(state!.size, 0);
});

Deno.test("with holdYoungMs a young stream whose channel went offline after it began is not held", async () => {
  // The scan that first listed the stream ran while its stream.offline came: the watcher found
  // no stream of the channel in the live set the scan was about to replace, so no id was ended.
  const young = fakeStream("1", {
    user_id: "42",
    started_at: new Date(NOW - 120_000).toISOString(),
  });
  // A channel that went offline before its new broadcast began: that broadcast stays held.
  const restarted = fakeStream("2", {
    user_id: "43",
    started_at: new Date(NOW - 120_000).toISOString(),
  });
  const ledger = new WatchLedger();
  ledger.note("42", { type: "offline", at: NOW - 60_000 });
  ledger.note("43", { type: "offline", at: NOW - 180_000 });
  const { sink, run } = scan({ listed: [], live: [] }, {
    previous: stateOf(young, restarted),
    holdYoungMs: 600_000,
    events: ledger,
  });
  const { state } = await run;
  assert.deepEqual(sink.written.map((r) => [r.key, r.value === null]), [["1", true]]);
  assert.deepEqual([...state!.keys()], ["2"]);
});
