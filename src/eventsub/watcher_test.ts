import assert from "node:assert/strict";
import { Watcher, type WatcherOptions } from "./watcher.ts";
import { WatchLedger } from "./ledger.ts";
import type { StreamEvent } from "./messages.ts";
import { createFakeSource, fakeStream } from "../scan/_test_utils.ts";
import type { LiveState } from "../scan/endings.ts";
import type { HelixStream } from "../helix/stream.ts";
import { type LiveStream, liveStream, type StreamRecord } from "../scan/record.ts";
import { LiveSet } from "../scan/live_set.ts";
import { seeded, testSeed } from "../_test_seeded.ts";

const NOW = Date.parse("2026-11-29T12:00:00Z");

function setup(live: HelixStream[], state: HelixStream[], options: Partial<WatcherOptions> = {}) {
  // Fake time: a look-up due in `ms` runs at once, with the clock moved on by `ms`.
  const clock = { now: NOW + 5 };
  const source = createFakeSource({ listed: live, now: () => clock.now });
  const sent: StreamRecord[] = [];
  const liveState: LiveState = new Map(state.map((s) => [s.id, liveStream(s)]));
  const ledger = new WatchLedger();
  const watcher = new Watcher({
    source,
    send: (records) => {
      sent.push(...records);
      return Promise.resolve();
    },
    live: () => liveState,
    ledger,
    now: () => clock.now,
    schedule: (ms, task) => {
      setTimeout(() => {
        clock.now += ms;
        void task();
      }, 0);
    },
    ...options,
  });
  return { source, sent, liveState, ledger, watcher, clock };
}

function event(type: StreamEvent["type"], userId: string, streamId?: string): StreamEvent {
  return {
    type,
    userId,
    userLogin: `user_${userId}`,
    ...(streamId ? { streamId } : {}),
    sentAt: NOW - 100,
    receivedAt: NOW,
  };
}

Deno.test("stream.offline writes the tombstone of the channel's live stream with end-reason offline", async () => {
  const s = fakeStream("1", { user_id: "42" });
  const { sent, liveState, watcher, ledger } = setup([], [s, fakeStream("2")]);
  await watcher.handle(event("stream.offline", "42"));
  assert.deepEqual(sent, [{
    key: "1",
    value: null,
    timestamp: NOW,
    headers: {
      "scan-id": "eventsub",
      "fetched-at": new Date(NOW).toISOString(),
      "end-reason": "offline",
    },
  }]);
  assert.deepEqual([...liveState.keys()], ["2"]);
  assert.deepEqual(ledger.latest("42"), { type: "offline", at: NOW });
});

Deno.test("stream.offline of a channel with no known stream writes nothing", async () => {
  const { sent, watcher } = setup([], []);
  const outcome = await watcher.handle(event("stream.offline", "42"));
  assert.deepEqual(sent, []);
  assert.equal(outcome.skipped, "no live stream of that channel known");
});

Deno.test("stream.online fetches the stream by user id and writes Helix's object", async () => {
  const s = fakeStream("9", { user_id: "42" });
  const { sent, source, liveState, watcher } = setup([s], []);
  await watcher.handle(event("stream.online", "42", "9"));
  assert.deepEqual(source.calls.map((c) => [c.query, c.first]), [[{ user_id: ["42"] }, 100]]);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].key, "9");
  assert.deepEqual(JSON.parse(sent[0].value!), s);
  assert.equal(sent[0].headers["scan-id"], "eventsub");
  assert.equal(liveState.has("9"), true);
});

Deno.test("stream.online asks again while Helix does not list the stream yet", async () => {
  const s = fakeStream("9", { user_id: "42" });
  let calls = 0;
  const listed: HelixStream[] = [];
  const { sent, watcher } = setup(listed, [], {
    source: {
      fetchPage() {
        calls++;
        return Promise.resolve({ streams: calls >= 3 ? [s] : [], fetchedAt: NOW });
      },
      rateLimitRemaining: () => null,
    },
  });
  await watcher.handle(event("stream.online", "42", "9"));
  assert.equal(calls, 3);
  assert.deepEqual(sent.map((r) => r.key), ["9"]);
});

Deno.test("stream.online looks for minutes, then gives up when Helix never lists the stream", async () => {
  const { sent, source, watcher, clock } = setup([], []);
  const outcome = await watcher.handle(event("stream.online", "42", "9"));
  // 1, 3, 7 and 15 s after the event, then every 10 s up to 3 minutes.
  assert.equal(source.calls.length, 20);
  assert.equal(clock.now - (NOW + 5), 175_000);
  assert.deepEqual(sent, []);
  assert.equal(outcome.skipped, "Helix did not list the stream in time");
});

Deno.test("an offline event right after an online one ends its wait: only the broadcast's tombstone is written", async () => {
  const s = fakeStream("9", { user_id: "42" });
  const { sent, watcher, ledger } = setup([s], []);
  const online = watcher.handle(event("stream.online", "42", "9"));
  const offline = watcher.handle({ ...event("stream.offline", "42"), receivedAt: NOW + 1 });
  await Promise.all([online, offline]);
  assert.deepEqual(sent.map((r) => [r.key, r.value === null]), [["9", true]]);
  assert.equal(ledger.ended("9"), true);
});

Deno.test("an offline event after an online one that was produced tombstones it", async () => {
  const s = fakeStream("9", { user_id: "42" });
  const { sent, watcher } = setup([s], []);
  await watcher.handle(event("stream.online", "42", "9"));
  await watcher.handle({ ...event("stream.offline", "42"), receivedAt: NOW + 1 });
  assert.deepEqual(sent.map((r) => [r.key, r.value === null]), [["9", false], ["9", true]]);
});

Deno.test("the acknowledgement is reported with the event, for the latency metric", async () => {
  const seen: number[] = [];
  const { watcher } = setup([], [fakeStream("1", { user_id: "42" })], {
    onProduced: (e, records, ackedAt) => seen.push(ackedAt - e.sentAt, records.length),
  });
  await watcher.handle(event("stream.offline", "42"));
  assert.deepEqual(seen, [105, 1]);
});

Deno.test("stream.offline tombstones the broadcast the online event produced, even when a scan dropped it from the live set", async () => {
  const s = fakeStream("7", { user_id: "42" });
  const { sent, liveState, watcher } = setup([s], []);
  await watcher.handle(event("stream.online", "42", "7"));
  // A complete scan that began before the online event replaces the live set without it.
  liveState.clear();
  await watcher.handle({ ...event("stream.offline", "42"), receivedAt: NOW + 10 });
  assert.deepEqual(sent.map((r) => [r.key, r.value === null]), [["7", false], ["7", true]]);
});

Deno.test("after stream.offline, a lagging look-up that still lists the broadcast does not bring it back", async () => {
  const s = fakeStream("1", { user_id: "42" });
  // Helix's cache still lists the ended broadcast for minutes.
  const { sent, liveState, watcher, ledger } = setup([s], [s]);
  await watcher.handle(event("stream.offline", "42"));
  assert.equal(ledger.supersedes("42", "1", NOW + 300_000), true);
  // A stream.online of the same channel before Helix lists its new broadcast: the old one
  // that Helix still shows is not produced again.
  const outcome = await watcher.handle(event("stream.online", "42", "2"));
  assert.deepEqual(sent.map((r) => [r.key, r.value === null]), [["1", true]]);
  assert.equal(outcome.records.length, 0);
  assert.equal(liveState.has("1"), false);
});

Deno.test("stream.offline ends the broadcast its stream.online named, even one the topic never held", async () => {
  const { watcher, ledger } = setup([], []);
  await watcher.handle(event("stream.online", "42", "9"));
  await watcher.handle(event("stream.offline", "42"));
  assert.equal(ledger.ended("9"), true);
});

Deno.test("channels waiting for Helix are looked up together, one Get Streams for all", async () => {
  const a = fakeStream("9", { user_id: "42" });
  const b = fakeStream("8", { user_id: "43" });
  const { sent, source, watcher } = setup([a, b], []);
  await Promise.all([
    watcher.handle(event("stream.online", "42", "9")),
    watcher.handle(event("stream.online", "43", "8")),
  ]);
  assert.deepEqual(source.calls.map((c) => c.query.user_id), [["42", "43"]]);
  assert.deepEqual(sent.map((r) => r.key).sort(), ["8", "9"]);
});

Deno.test("stream.offline ends the wait of the channel's online at once, and is handled", async () => {
  const old = fakeStream("1", { user_id: "42" });
  const { sent, source, watcher } = setup([], [old]);
  const online = watcher.handle(event("stream.online", "42", "9"));
  const offline = watcher.handle({ ...event("stream.offline", "42"), receivedAt: NOW + 1 });
  assert.equal((await online).skipped, "a newer event of the channel came");
  await offline;
  assert.equal(source.calls.length, 0);
  assert.deepEqual(sent.map((r) => [r.key, r.value === null]), [["1", true], ["9", true]]);
});

Deno.test("stream.offline finds the channel's streams in a LiveSet without reading every stream", async () => {
  /** Reading the streams one by one builds an object each: seconds at a million. */
  class Counted extends LiveSet {
    read = 0;
    override *entries(): MapIterator<[string, LiveStream]> {
      for (const entry of super.entries()) {
        this.read++;
        yield entry;
      }
    }
  }
  const set = new Counted();
  for (let i = 0; i < 2000; i++) {
    const s = fakeStream(String(1000 + i), { user_id: String(5000 + (i % 1000)) });
    set.set(s.id, liveStream(s));
  }
  set.delete("1042");
  const { sent, watcher } = setup([], [], { live: () => set });
  await watcher.handle(event("stream.offline", "5042"));
  assert.deepEqual(sent.map((r) => [r.key, r.value]), [["2042", null]]);
  assert.equal(set.has("2042"), false);
  assert.equal(set.read, 0);
});

function sentAt(e: StreamEvent, at: number, receivedAt = NOW): StreamEvent {
  return { ...e, sentAt: at, receivedAt };
}

Deno.test("a restart's stream.offline that arrives after the new broadcast's stream.online ends only the old broadcast", async () => {
  const old = fakeStream("1", { user_id: "42" });
  const fresh = fakeStream("2", { user_id: "42" });
  const { sent, liveState, watcher, ledger } = setup([fresh], [old]);
  // Twitch sent the offline first; the online came over the other shard and arrived first.
  const online = watcher.handle(sentAt(event("stream.online", "42", "2"), NOW - 50));
  const offline = await watcher.handle(sentAt(event("stream.offline", "42"), NOW - 80, NOW + 1));
  assert.deepEqual(offline.records.map((r) => [r.key, r.value]), [["1", null]]);
  const produced = await online;
  assert.deepEqual(produced.records.map((r) => r.key), ["2"]);
  assert.deepEqual(sent.map((r) => [r.key, r.value === null]), [["1", true], ["2", false]]);
  assert.deepEqual([...liveState.keys()], ["2"]);
  assert.equal(ledger.ended("1"), true);
  assert.equal(ledger.ended("2"), false);
});

Deno.test("a stream.online that arrives after a later stream.offline of its channel is not produced, and its broadcast is left to the scans", async () => {
  const listed = fakeStream("2", { user_id: "42" });
  const { sent, watcher, ledger } = setup([listed], []);
  const offline = await watcher.handle(sentAt(event("stream.offline", "42"), NOW - 10));
  assert.equal(offline.records.length, 0);
  const online = await watcher.handle(sentAt(event("stream.online", "42", "2"), NOW - 50, NOW + 1));
  assert.deepEqual(online, { records: [], skipped: "a newer stream.offline of the channel came" });
  assert.deepEqual(sent, []);
  // The offline names no broadcast: it may have ended an older one, so "2" is not marked ended.
  assert.equal(ledger.ended("2"), false);
});

Deno.test("a late stream.offline after a stream.online without a stream id leaves the old broadcast to the scans", async () => {
  const old = fakeStream("1", { user_id: "42" });
  const { sent, watcher } = setup([], [old], { onlineWaitMs: 0 });
  const online = watcher.handle(sentAt(event("stream.online", "42"), NOW - 50));
  const offline = await watcher.handle(sentAt(event("stream.offline", "42"), NOW - 80, NOW + 1));
  assert.deepEqual(offline, {
    records: [],
    skipped: "a newer stream.online without a stream id came",
  });
  await online;
  assert.deepEqual(sent, []);
});

Deno.test("in any order of arrival, a channel's events leave exactly its live broadcast live (300 seeded schedules)", async () => {
  const base = testSeed();
  for (let run = 0; run < 300; run++) {
    const seed = base + run;
    const random = seeded(seed);
    const context = `seed ${seed} (repeat with SEED=${seed})`;
    // Five channels, each live or not at the start, then one to four changes Twitch sent in order.
    const initial: HelixStream[] = [];
    const events: StreamEvent[] = [];
    const current = new Map<string, string | null>();
    let next = 100;
    for (let c = 0; c < 5; c++) {
      const userId = String(c + 1);
      let live: string | null = random() < 0.5 ? `b${next++}` : null;
      if (live !== null) initial.push(fakeStream(live, { user_id: userId }));
      let at = NOW - 10_000;
      for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
        at += 1 + Math.floor(random() * 2000);
        if (live !== null) {
          events.push(sentAt(event("stream.offline", userId), at));
          live = null;
        } else {
          live = `b${next++}`;
          events.push(sentAt(event("stream.online", userId, live), at));
        }
      }
      current.set(userId, live);
    }
    const truth = [...current.values()].filter((id): id is string => id !== null);
    const listed = truth.map((id) => {
      const userId = [...current].find(([, b]) => b === id)![0];
      return fakeStream(id, { user_id: userId });
    });
    const { sent, liveState, watcher } = setup(listed, initial);
    // Shards deliver in any order; some events are handled before others arrive.
    const order = events.map((e) => ({ e, r: random() })).sort((a, b) => a.r - b.r);
    const pending: Promise<unknown>[] = [];
    for (const { e } of order) {
      pending.push(watcher.handle(e));
      if (random() < 0.5) await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(pending);
    assert.deepEqual([...liveState.keys()].sort(), truth.sort(), `live state, ${context}`);
    const last = new Map<string, boolean>();
    for (const r of sent) last.set(r.key, r.value !== null);
    for (const [key, isLive] of last) {
      assert.equal(isLive, truth.includes(key), `last record of ${key}, ${context}`);
    }
  }
});

Deno.test("channels whose newest event is past an hour are forgotten, and their late events are handled as new", async () => {
  const { watcher, clock } = setup([], [], { onlineWaitMs: 0 });
  await watcher.handle(sentAt(event("stream.offline", "1"), NOW - 10));
  // The channel's queue empties a tick after its event was handled.
  await new Promise((r) => setTimeout(r, 0));
  clock.now += 2 * 3_600_000;
  const later = NOW + 2 * 3_600_000;
  await watcher.handle({ ...event("stream.offline", "2"), sentAt: later, receivedAt: later });
  // Channel 1's newest (an offline sent at NOW - 10) is forgotten: an event sent before it is
  // no longer "late" against it.
  const outcome = await watcher.handle({
    ...event("stream.online", "1", "s"),
    sentAt: NOW - 20,
    receivedAt: later,
  });
  assert.notEqual(outcome.skipped, "a newer event of the channel came");
});
