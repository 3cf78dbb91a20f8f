import assert from "node:assert/strict";
import { createHandOver, endedDuringScan, type HandOver, withEvents } from "./watch.ts";
import { fakeSession, testConfig } from "./_test_utils.ts";
import type { ScanSession } from "./context.ts";
import { createScanner } from "./scheduled_scan.ts";
import { createLifecycle } from "./lifecycle.ts";
import { createStatus } from "./status.ts";
import { liveStream, streamRecord, tombstoneRecord } from "../scan/record.ts";
import { createFakeSource, fakeStream } from "../scan/_test_utils.ts";
import { runScan } from "../scan/scan.ts";
import { LanguageAudit } from "../scan/audit.ts";
import type { StreamSource } from "../helix/client.ts";
import { createMetrics } from "../ops/metrics.ts";
import { WatchLedger } from "../eventsub/mod.ts";
import { Watcher } from "../eventsub/watcher.ts";

const stream = fakeStream("7", { user_id: "107" });
const record = streamRecord(stream, { scanId: "eventsub", fetchedAt: 1 });

Deno.test("a standby refuses an event's records, and reads an empty live set", async () => {
  const handOver = createHandOver({ active: () => null, stepDown: () => assert.fail() });
  await assert.rejects(handOver.send([record]), /standing by: another instance leads/);
  assert.equal(handOver.live().size, 0);
});

Deno.test("events go through the session that scans now, and read its live set", async () => {
  let current: ScanSession = fakeSession(new Map([[stream.id, liveStream(stream)]]));
  const first = current;
  const handOver = createHandOver({ active: () => current, stepDown: () => assert.fail() });
  assert.equal(handOver.live(), first.state);
  await handOver.send([record]);
  current = fakeSession();
  await handOver.send([record]);
  assert.equal((first as ReturnType<typeof fakeSession>).delivery.acknowledged.length, 1);
  assert.equal((current as ReturnType<typeof fakeSession>).delivery.acknowledged.length, 1);
});

Deno.test("a fenced send steps down at once and still fails", async () => {
  const session = fakeSession();
  session.delivery.refuse = new Error("fenced");
  session.delivery.lostLeadership = true;
  let stepDowns = 0;
  const handOver = createHandOver({ active: () => session, stepDown: () => stepDowns++ });
  await assert.rejects(handOver.send([record]), /fenced/);
  assert.equal(stepDowns, 1);
});

Deno.test("a send that fails for another reason does not step down", async () => {
  const session = fakeSession();
  session.delivery.refuse = new Error("timeout");
  let stepDowns = 0;
  const handOver = createHandOver({ active: () => session, stepDown: () => stepDowns++ });
  await assert.rejects(handOver.send([record]), /timeout/);
  assert.equal(stepDowns, 0);
});

/** A scanner over `source()` whose sessions hand events over through `handOver`. */
function scannerWith(
  source: () => StreamSource,
  ledger: WatchLedger,
  handOver: HandOver,
) {
  return createScanner({
    config: testConfig(),
    metrics: createMetrics(),
    status: createStatus(),
    lifecycle: createLifecycle(),
    ledger,
    events: handOver,
    audit: new LanguageAudit(0),
    run: (options) =>
      runScan({
        ...options,
        source: source(),
        plan: { queries: [{}], sharded: false },
        scanId: crypto.randomUUID(),
        concurrency: 1,
      }),
    stepDown: () => {},
    now: Date.now,
  });
}

Deno.test("a stream the watchlist produced while a scan settled stays live, and the next scan tombstones its end", async () => {
  const at = new Date(Date.now() - 3600_000).toISOString();
  const a = fakeStream("1", { user_id: "101", started_at: at });
  const gone = fakeStream("5", { user_id: "105", started_at: at });
  const y = fakeStream("9", { user_id: "109", started_at: at });
  const session = fakeSession(new Map([[a.id, liveStream(a)], [gone.id, liveStream(gone)]]));
  const ledger = new WatchLedger();
  const handOver = createHandOver({ active: () => session, stepDown: () => {} });
  const watcher = new Watcher({
    source: createFakeSource({ listed: [a, y] }),
    send: handOver.send,
    live: handOver.live,
    ledger,
    // Fake time: a look-up after stream.online runs at once.
    schedule: (_ms, task) => void setTimeout(() => void task(), 0),
  });
  // Scan 1 lists only a (paged before y went live); y goes live while it looks up `gone`.
  let handled: Promise<unknown> = Promise.resolve();
  let source = createFakeSource({
    listed: [a],
    live: [a, y],
    latencyMs: 30,
    onCall: (call) => {
      if (!call.lookup) return;
      const now = Date.now();
      handled = watcher.handle({
        type: "stream.online",
        userId: y.user_id,
        userLogin: y.user_login,
        streamId: y.id,
        sentAt: now,
        receivedAt: now,
      });
    },
  });
  const scanner = scannerWith(() => source, ledger, handOver);
  await scanner.scan({ session });
  await handled;
  assert.deepEqual([...session.state.keys()].sort(), ["1", "9"]);
  // y ends and its stream.offline is missed: only the next scan can tombstone it.
  source = createFakeSource({ listed: [a], live: [a] });
  await scanner.scan({ session });
  const ofY = session.delivery.acknowledged.filter((r) => r.key === y.id);
  assert.deepEqual(ofY.map((r) => r.value === null ? "tombstone" : "record"), [
    "record",
    "tombstone",
  ]);
  assert.deepEqual([...session.state.keys()], ["1"]);
});

Deno.test("a stream an event made live during a scan that the scan tombstoned stays gone", () => {
  const y = fakeStream("9", { user_id: "109" });
  const next = withEvents(new Map(), new Map([[y.id, liveStream(y)]]), new Set([y.id]));
  assert.equal(next.size, 0);
});

Deno.test("what the scan observed of a stream wins over what an event noted", () => {
  const y = fakeStream("9", { user_id: "109", user_login: "scan" });
  const event = liveStream({ ...y, user_login: "event" });
  const next = withEvents(new Map([[y.id, liveStream(y)]]), new Map([[y.id, event]]), new Set());
  assert.equal(next.get(y.id)!.userLogin, "scan");
});

Deno.test("only records acknowledged through the noted session are noted, and an event's end is noted as an end", async () => {
  const y = fakeStream("9", { user_id: "109" });
  const z = fakeStream("10", { user_id: "110" });
  let current = fakeSession();
  const noted = current;
  const handOver = createHandOver({ active: () => current, stepDown: () => {} });
  const note = handOver.note(noted);
  await handOver.send([streamRecord(y, { scanId: "eventsub", fetchedAt: 1 })]);
  await handOver.send([streamRecord(z, { scanId: "eventsub", fetchedAt: 1 })]);
  await handOver.send([tombstoneRecord(z.id, { scanId: "eventsub", at: 2, reason: "offline" })]);
  noted.delivery.refuse = new Error("timeout");
  const w = fakeStream("11", { user_id: "111" });
  await assert.rejects(handOver.send([streamRecord(w, { scanId: "eventsub", fetchedAt: 1 })]));
  current = fakeSession();
  await handOver.send([streamRecord(w, { scanId: "eventsub", fetchedAt: 1 })]);
  assert.deepEqual([...note.end()].map(([id, live]) => [id, live === null]), [
    ["9", false],
    ["10", true],
  ]);
});

Deno.test("a scan that crashes stops noting its session's events", async () => {
  const session = fakeSession();
  const ledger = new WatchLedger();
  const handOver = createHandOver({ active: () => session, stepDown: () => {} });
  let noted: ReturnType<HandOver["note"]> | null = null;
  const scanner = createScanner({
    config: testConfig(),
    metrics: createMetrics(),
    status: createStatus(),
    lifecycle: createLifecycle(),
    ledger,
    events: {
      note(s) {
        noted = handOver.note(s);
        return noted;
      },
    },
    audit: new LanguageAudit(0),
    run: () => Promise.reject(new Error("bug")),
    stepDown: () => {},
    now: Date.now,
  });
  await assert.rejects(scanner.scan({ session }), /bug/);
  const y = fakeStream("9", { user_id: "109" });
  await handOver.send([streamRecord(y, { scanId: "eventsub", fetchedAt: 1 })]);
  assert.equal(noted!.end().size, 0);
});

Deno.test("a stream an event ended during a scan is gone from the scan's next state, even if a page listed it", () => {
  const y = fakeStream("9", { user_id: "109" });
  const a = fakeStream("1", { user_id: "101" });
  const scanned = new Map([[y.id, liveStream(y)], [a.id, liveStream(a)]]);
  const next = withEvents(scanned, new Map([[y.id, null]]), new Set());
  assert.deepEqual([...next.keys()], ["1"]);
});

Deno.test("a stream whose channel went offline during the scan that first listed it is tombstoned as the scan ends", async () => {
  const at = new Date(Date.now() - 3600_000).toISOString();
  const a = fakeStream("1", { user_id: "101", started_at: at });
  const s = fakeStream("5", { user_id: "105", started_at: at });
  const session = fakeSession(new Map([[a.id, liveStream(a)]]));
  const ledger = new WatchLedger();
  const handOver = createHandOver({ active: () => session, stepDown: () => {} });
  const watcher = new Watcher({
    source: createFakeSource({ listed: [] }),
    send: handOver.send,
    live: handOver.live,
    ledger,
  });
  let handled: Promise<unknown> = Promise.resolve();
  // s's channel goes offline while the scan runs, before it hands over its state: the event
  // finds no stream of the channel to end, and the scan's page (answered after the event, as
  // a cache node behind answers) lists s.
  const source = createFakeSource({
    listed: [a, s],
    onCall: () => {
      const now = Date.now();
      handled = watcher.handle({
        type: "stream.offline",
        userId: s.user_id,
        userLogin: s.user_login,
        sentAt: now,
        receivedAt: now,
      });
    },
    latencyMs: 20,
  });
  const scanner = scannerWith(() => source, ledger, handOver);
  await scanner.scan({ session });
  await handled;
  const ofS = session.delivery.acknowledged.filter((r) => r.key === s.id);
  assert.deepEqual(
    ofS.map((r) => [r.value === null ? "tombstone" : "record", r.headers["end-reason"]]),
    [
      ["record", undefined],
      ["tombstone", "offline"],
    ],
  );
  assert.deepEqual([...session.state.keys()], ["1"]);
  assert.equal(ledger.ended(s.id), true);
});

Deno.test("a channel live again since its offline keeps the broadcast that began after it", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  const old = liveStream(fakeStream("1", { user_id: "7", started_at: "2026-12-01T10:00:00Z" }));
  const fresh = liveStream(fakeStream("2", { user_id: "7", started_at: "2026-12-01T11:59:50Z" }));
  const other = liveStream(fakeStream("3", { user_id: "8", started_at: "2026-12-01T10:00:00Z" }));
  const next = new Map([["1", old], ["2", fresh], ["3", other]]);
  assert.deepEqual(endedDuringScan(next, [{ userId: "7", at: now }]), ["1"]);
  assert.deepEqual(endedDuringScan(next, []), []);
});
