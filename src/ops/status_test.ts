import assert from "node:assert/strict";
import { EVENT_HISTORY, SCAN_HISTORY, ServiceStatus, STATUS_VERSION } from "./status.ts";
import type { ScanSummary } from "../scan/scan.ts";
import type { StreamRecord } from "../scan/record.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");

function summary(fields: Partial<ScanSummary> = {}): ScanSummary {
  return {
    scanId: "s",
    result: "ok",
    pages: 10,
    streams: 1000,
    distinct: 1000,
    duplicates: 0,
    lateDuplicates: 0,
    records: 1000,
    recovered: 2,
    ended: 3,
    expired: 0,
    deselected: 1,
    lookups: 5,
    durationMs: 9000,
    drainMs: 60,
    rateLimitRemaining: 700,
    points: 15,
    rateBoundMs: 1125,
    settled: true,
    superseded: 0,
    ...fields,
  };
}

function record(id: string, value: string | null): StreamRecord {
  return { key: id, value, timestamp: NOW - 1000, headers: {} };
}

function status(extra: Partial<ConstructorParameters<typeof ServiceStatus>[0]> = {}) {
  return new ServiceStatus({
    readiness: () => ({ ready: true, reason: "ok" }),
    now: () => NOW,
    ...extra,
  });
}

Deno.test("the document names its version, readiness, role and the time since the last successful scan", () => {
  const s = status();
  s.scanned(summary(), NOW - 65_000);
  s.scanned(summary({ result: "failed", failure: { stage: "helix", message: "503" } }), NOW - 5000);
  s.role("leader");
  const doc = s.snapshot();
  assert.equal(doc.version, STATUS_VERSION);
  assert.equal(doc.generatedAt, "2026-12-03T12:00:00.000Z");
  assert.equal(doc.service.ready, true);
  assert.equal(doc.service.role, "leader");
  assert.equal(doc.service.lastSuccessAt, "2026-12-03T11:58:55.000Z");
  assert.equal(doc.service.sinceSuccessSeconds, 65);
  assert.deepEqual(doc.service.scans.map((r) => [r.result, r.error]), [
    ["ok", null],
    ["failed", "helix: 503"],
  ]);
  assert.deepEqual(doc.service.scans[0], {
    finishedAt: "2026-12-03T11:58:55.000Z",
    result: "ok",
    durationMs: 9000,
    rateBoundMs: 1125,
    points: 15,
    distinct: 1000,
    records: 1000,
    ended: 3,
    expired: 0,
    recovered: 2,
    deselected: 1,
    error: null,
  });
});

Deno.test("the timeline keeps the last 30 scans, oldest first", () => {
  const s = status();
  for (let i = 0; i < SCAN_HISTORY + 5; i++) s.scanned(summary({ records: i }), NOW);
  const scans = s.snapshot().service.scans;
  assert.equal(scans.length, SCAN_HISTORY);
  assert.equal(scans[0].records, 5);
  assert.equal(scans.at(-1)!.records, SCAN_HISTORY + 4);
});

Deno.test("Kafka's last error stays after the broker is back, and secrets are blanked out of it", () => {
  const s = status({ secrets: ["hunter2-secret", undefined, ""] });
  s.kafka(false, "SASL failed for password hunter2-secret");
  assert.deepEqual(s.snapshot().service.kafka, {
    reachable: false,
    lastError: "SASL failed for password [redacted]",
    lastErrorAt: "2026-12-03T12:00:00.000Z",
  });
  s.kafka(true);
  assert.equal(s.snapshot().service.kafka.reachable, true);
  assert.equal(s.snapshot().service.kafka.lastError, "SASL failed for password [redacted]");
});

Deno.test("the budget comes from the source and the last scan", () => {
  const s = status({
    source: { rateLimitRemaining: () => 640, budget: () => ({ perMinute: 800 }) },
  });
  s.scanned(summary(), NOW);
  assert.deepEqual(s.snapshot().service.budget, {
    perMinute: 800,
    remaining: 640,
    lastScanPoints: 15,
    lastScanRateBoundMs: 1125,
  });
});

Deno.test("a standby forgets the live set: the leader's page shows it", () => {
  const s = status();
  s.acknowledged([record("1", JSON.stringify({ viewer_count: 5, game_id: "1", game_name: "A" }))]);
  assert.equal(s.snapshot().live.streams, 1);
  s.role("standby");
  assert.equal(s.snapshot().live.streams, 0);
  assert.equal(s.snapshot().live.viewers, 0);
});

Deno.test("a write after a summary shows at once, not after the summary's cache expires", () => {
  const s = status();
  assert.equal(s.snapshot().live.streams, 0);
  s.acknowledged([record("1", JSON.stringify({ viewer_count: 5 }))]);
  assert.equal(s.snapshot().live.streams, 1);
});

Deno.test("EventSub shows shards, channels, coverage and the last events it produced", () => {
  const s = status({
    eventsub: { watched: ["Alice", "bob"], shards: () => ["connected"] },
  });
  s.acknowledged([
    record("1", JSON.stringify({ user_login: "alice", viewer_count: 30 })),
    record("2", JSON.stringify({ user_login: "carol", user_name: "Carol", viewer_count: 10 })),
  ]);
  for (let i = 0; i < EVENT_HISTORY + 2; i++) s.acknowledged([record(`e${i}`, null)], true);
  s.acknowledged([
    record("1", JSON.stringify({ user_login: "alice", user_name: "Alice", viewer_count: 30 })),
  ], true);
  s.acknowledged([record("2", null)], true);
  const eventsub = s.snapshot().service.eventsub!;
  assert.deepEqual(eventsub.shards, { connected: 1, total: 1 });
  assert.equal(eventsub.connected, true);
  assert.equal(eventsub.channels, 2);
  assert.deepEqual(eventsub.coverage, { streams: 1, streamShare: 1, viewerShare: 1 });
  assert.equal(eventsub.lastEvents.length, EVENT_HISTORY);
  assert.deepEqual(eventsub.lastEvents.at(-1), {
    at: "2026-12-03T11:59:59.000Z",
    kind: "offline",
    stream: "2",
    // Looked up before its tombstone took the stream off the board.
    channel: "Carol",
  });
  assert.deepEqual(eventsub.lastEvents.at(-2), {
    at: "2026-12-03T11:59:59.000Z",
    kind: "online",
    stream: "1",
    channel: "Alice",
  });
  assert.equal(eventsub.lastEvents[0].stream, "e4");
  assert.equal(status().snapshot().service.eventsub, null);
});

/** Every key path of a JSON value; an array's paths are those of its first element. */
function shape(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) {
    return value.length === 0 ? [`${path}[]`] : shape(value[0], `${path}[]`);
  }
  if (value === null || typeof value !== "object") return [path];
  return Object.entries(value).flatMap(([key, v]) => shape(v, path === "" ? key : `${path}.${key}`))
    .sort();
}

Deno.test("the README documents /status.json's shape exactly", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const block = /```jsonc\n(\{\n {2}"version"[\s\S]*?)\n```/.exec(readme)?.[1];
  assert.ok(block, "no jsonc block of /status.json in the README");
  const documented = JSON.parse(
    block.replace(/\/\*[\s\S]*?\*\//g, "").replace(/ \/\/ .*$/gm, ""),
  );
  const s = status({ eventsub: { watched: ["a"], shards: () => ["connected"] } });
  const stream = {
    id: "1",
    user_login: "a",
    user_name: "A",
    game_id: "1",
    game_name: "G",
    title: "t",
    tags: ["x"],
    viewer_count: 1,
    started_at: "2026-12-03T11:59:00Z",
  };
  s.acknowledged([record("1", JSON.stringify(stream))], true);
  s.scanned(summary(), NOW);
  const actual = s.snapshot();
  // The example elides the new streams' list: its rows are those of topStreams.
  documented.live.newStreams.latest = actual.live.newStreams.latest;
  assert.deepEqual(shape(documented), shape(actual));
});
