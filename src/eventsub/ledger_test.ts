import assert from "node:assert/strict";
import { WatchLedger } from "./ledger.ts";

Deno.test("an offline event supersedes only pages fetched before it", () => {
  const ledger = new WatchLedger();
  ledger.note("42", { type: "offline", at: 1000 });
  assert.equal(ledger.supersedes("42", "s1", 999), true);
  assert.equal(ledger.supersedes("42", "s1", 1000), false);
  assert.equal(ledger.supersedes("42", "s1", 1001), false);
  assert.equal(ledger.supersedes("7", "s1", 0), false);
});

Deno.test("an online event supersedes older pages of other broadcasts, never its own", () => {
  const ledger = new WatchLedger();
  ledger.note("42", { type: "online", at: 1000, streamId: "new" });
  assert.equal(ledger.supersedes("42", "old", 999), true);
  assert.equal(ledger.supersedes("42", "new", 999), false);
});

Deno.test("an event older than the one known is ignored", () => {
  const ledger = new WatchLedger();
  assert.equal(ledger.note("42", { type: "offline", at: 2000 }), true);
  assert.equal(ledger.note("42", { type: "online", at: 1000, streamId: "x" }), false);
  assert.deepEqual(ledger.latest("42"), { type: "offline", at: 2000 });
});

Deno.test("a live record that waited while a newer offline event came is dropped at hand-over", () => {
  const ledger = new WatchLedger();
  const live = (id: string, userId: string, at: number) => ({
    key: id,
    value: `{"id":"${id}","user_id":"${userId}"}`,
    timestamp: at,
    headers: {},
  });
  const tombstone = { key: "3", value: null, timestamp: 5, headers: {} };
  assert.deepEqual(ledger.unsuperseded([live("1", "42", 10)]).map((r) => r.key), ["1"]);
  ledger.note("42", { type: "offline", at: 20 });
  assert.deepEqual(
    ledger.unsuperseded([live("1", "42", 10), live("2", "7", 10), tombstone, live("4", "42", 30)])
      .map((r) => r.key),
    ["2", "3", "4"],
  );
});

Deno.test("a broadcast stream.offline ended stays ended, however new the page that lists it", () => {
  const ledger = new WatchLedger();
  ledger.note("42", { type: "offline", at: 1000 });
  ledger.end(["s1"], 1000);
  // A cache node minutes behind still lists s1 in a page fetched after the event.
  assert.equal(ledger.supersedes("42", "s1", 1000 + 300_000), true);
  // The channel's next broadcast is another id, and passes.
  ledger.note("42", { type: "online", at: 2000, streamId: "s2" });
  assert.equal(ledger.supersedes("42", "s2", 2500), false);
  assert.equal(ledger.supersedes("42", "s1", 2500), true);
  const record = (key: string) => ({
    key,
    value: `{"id":"${key}","user_id":"42"}`,
    timestamp: 9_000_000,
    headers: {},
  });
  assert.deepEqual(ledger.unsuperseded([record("s1"), record("s2")]).map((r) => r.key), ["s2"]);
});

Deno.test("ended broadcasts are kept 48 hours, then forgotten", () => {
  const ledger = new WatchLedger();
  const hour = 3_600_000;
  ledger.end(["old"], 0);
  ledger.end(["newer"], 47 * hour);
  assert.equal(ledger.ended("old"), true);
  ledger.end(["newest"], 48 * hour + 1);
  assert.equal(ledger.ended("old"), false);
  assert.equal(ledger.ended("newer"), true);
  assert.equal(ledger.endedCount, 2);
});

Deno.test("observations past the horizon are forgotten, so the ledger does not grow with every channel ever subscribed", () => {
  const ledger = new WatchLedger({ horizonMs: 1000 });
  for (let user = 0; user < 5000; user++) {
    ledger.note(String(user), { type: "offline", at: user % 2 === 0 ? 0 : 500 });
  }
  assert.equal(ledger.size, 5000);
  // At 1200 the even channels' events (at 0) are past the horizon; the odd ones (500) are not.
  ledger.note("new", { type: "online", at: 1200, streamId: "s" });
  assert.equal(ledger.size, 2501);
  assert.equal(ledger.latest("0"), undefined);
  assert.deepEqual(ledger.latest("1"), { type: "offline", at: 500 });
  assert.equal(ledger.supersedes("1", "x", 499), true);
});

Deno.test("an ended broadcast stays ended whatever its user id looks like", () => {
  const ledger = new WatchLedger();
  ledger.end(["s1"], 1000);
  const record = { key: "s1", value: '{"id":"s1","user_id":"u-1"}', timestamp: 5000, headers: {} };
  assert.deepEqual(ledger.unsuperseded([record]), []);
});

Deno.test("broadcasts ended before a restart are learned, those past 48 hours left out", () => {
  const ledger = new WatchLedger();
  const hour = 3_600_000;
  const now = 100 * hour;
  ledger.learn(
    new Map([["old", now - 49 * hour], ["recent", now - hour], ["older", now - 47 * hour]]),
    now,
  );
  assert.equal(ledger.ended("old"), false);
  assert.equal(ledger.ended("recent"), true);
  assert.equal(ledger.ended("older"), true);
  const record = {
    key: "recent",
    value: '{"id":"recent","user_id":"1"}',
    timestamp: now,
    headers: {},
  };
  assert.deepEqual(ledger.unsuperseded([record]), []);
});
