import assert from "node:assert/strict";
import { byUser } from "./settle.ts";
import { runScan } from "./scan.ts";
import { liveStream } from "./record.ts";
import { createFakeSource, createMemorySink, fakeStream } from "./_test_utils.ts";

Deno.test("look-up batches hold at most the given number of users, each user in one batch", () => {
  const missing = [
    { id: "1", userId: "a" },
    { id: "2", userId: "b" },
    { id: "3", userId: "c" },
    { id: "4", userId: "a" },
    { id: "5", userId: "d" },
  ];
  assert.deepEqual(byUser(missing, 2), [
    [{ id: "1", userId: "a" }, { id: "4", userId: "a" }, { id: "2", userId: "b" }],
    [{ id: "3", userId: "c" }, { id: "5", userId: "d" }],
  ]);
});

Deno.test("no missing streams make no look-up", () => {
  assert.deepEqual(byUser([], 100), []);
});

Deno.test("a stop that lands between two look-ups ends the scan aborted, the later streams kept", async () => {
  const at = new Date(Date.now() - 3600_000).toISOString();
  const listed = [fakeStream("1", { started_at: at })];
  const gone = Array.from(
    { length: 150 },
    (_, i) => fakeStream(String(1000 + i), { started_at: at }),
  );
  const previous = new Map([...listed, ...gone].map((s) => [s.id, liveStream(s)]));
  const stop = new AbortController();
  const memory = createMemorySink();
  const { summary, state } = await runScan({
    source: createFakeSource({ listed }),
    // The first look-up's tombstones are acknowledged, then the service stops.
    sink: {
      write: async (records) => {
        await memory.write(records);
        if (records.some((r) => r.value === null)) stop.abort();
      },
      flush: () => memory.flush(),
    },
    plan: { queries: [{}], sharded: false },
    previous,
    scanId: "s",
    concurrency: 1,
    signal: stop.signal,
  });
  assert.equal(summary.result, "aborted");
  assert.deepEqual(summary.failure, { stage: "aborted", message: "shutting down" });
  assert.equal(summary.settled, false);
  assert.equal(summary.lookups, 1);
  assert.equal(summary.ended, 100);
  // The 50 streams of the second look-up were never looked up: they stay live.
  assert.equal(state!.size, 51);
  assert.ok(gone.slice(100).every((s) => state!.has(s.id)));
});

Deno.test("a stop while the expired and deselected streams are written ends the scan aborted", async () => {
  const old = new Date(Date.now() - 49 * 3600_000).toISOString();
  const at = new Date(Date.now() - 3600_000).toISOString();
  const listed = [fakeStream("1", { started_at: at })];
  const expired = fakeStream("2", { started_at: old });
  const gone = fakeStream("3", { started_at: at });
  const previous = new Map([listed[0], expired, gone].map((s) => [s.id, liveStream(s)]));
  const stop = new AbortController();
  const memory = createMemorySink();
  const source = createFakeSource({ listed });
  const { summary, state } = await runScan({
    source,
    sink: {
      write: async (records) => {
        await memory.write(records);
        if (records.some((r) => r.value === null)) stop.abort();
      },
      flush: () => memory.flush(),
    },
    plan: { queries: [{}], sharded: false },
    previous,
    scanId: "s",
    concurrency: 1,
    signal: stop.signal,
  });
  assert.equal(summary.result, "aborted");
  assert.equal(summary.lookups, 0);
  assert.equal(summary.expired, 1);
  assert.deepEqual([...state!.keys()].sort(), ["1", "3"]);
});
