import { TagTable } from "./status_tables.ts";
import assert from "node:assert/strict";
import { cut, LiveBoard, MAX_TEXT, NEW_STREAM_MS } from "./status_live.ts";
import type { StreamRecord } from "../scan/record.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");

function record(
  id: string,
  fields: { viewers: number; game: string; startedAt?: number; tags?: string[]; title?: string },
): StreamRecord {
  return {
    key: id,
    value: JSON.stringify({
      id,
      user_id: `u${id}`,
      user_login: `login${id}`,
      user_name: `Name${id}`,
      game_id: `g-${fields.game}`,
      game_name: fields.game,
      title: fields.title ?? `title ${id}`,
      tags: fields.tags ?? [],
      viewer_count: fields.viewers,
      // As Helix writes it: whole seconds.
      started_at: new Date(fields.startedAt ?? NOW - 3_600_000).toISOString().slice(0, 19) + "Z",
    }),
    timestamp: NOW,
    headers: {},
  };
}

function tombstone(id: string): StreamRecord {
  return { key: id, value: null, timestamp: NOW, headers: {} };
}

Deno.test("the board holds the latest acknowledged value of each key, and a tombstone deletes its key", () => {
  const board = new LiveBoard();
  board.acknowledged([
    record("1", { viewers: 10, game: "Chess" }),
    record("2", { viewers: 20, game: "Chess" }),
    record("3", { viewers: 5, game: "Go" }),
  ]);
  board.acknowledged([record("1", { viewers: 40, game: "Go" }), tombstone("2"), tombstone("9")]);
  const summary = board.summary(NOW);
  assert.equal(summary.streams, 2);
  assert.equal(summary.viewers, 45);
  assert.deepEqual(summary.topStreams.map((s) => [s.id, s.viewers, s.game]), [
    ["1", 40, "Go"],
    ["3", 5, "Go"],
  ]);
  assert.deepEqual(summary.topGamesByViewers, [{
    id: "g-Go",
    name: "Go",
    viewers: 45,
    streams: 2,
  }]);
});

Deno.test("top games are ranked by viewers and by streams, ties by id, at most N of each", () => {
  const board = new LiveBoard();
  board.acknowledged([
    record("1", { viewers: 100, game: "A" }),
    record("2", { viewers: 1, game: "B" }),
    record("3", { viewers: 1, game: "B" }),
    record("4", { viewers: 1, game: "B" }),
    record("5", { viewers: 50, game: "C" }),
    record("6", { viewers: 50, game: "C" }),
  ]);
  const summary = board.summary(NOW, 2);
  // A tie in viewers goes to the lower game id.
  assert.deepEqual(summary.topGamesByViewers.map((g) => [g.name, g.viewers, g.streams]), [
    ["A", 100, 1],
    ["C", 100, 2],
  ]);
  assert.deepEqual(summary.topGamesByStreams.map((g) => [g.name, g.streams]), [["B", 3], ["C", 2]]);
  assert.deepEqual(summary.topStreams.map((s) => s.id), ["1", "5"]);
});

Deno.test("new streams are those started within 15 minutes, newest first, and their count is exact", () => {
  const board = new LiveBoard();
  board.acknowledged([
    record("old", { viewers: 9, game: "A", startedAt: NOW - NEW_STREAM_MS - 1000 }),
    record("edge", { viewers: 1, game: "A", startedAt: NOW - NEW_STREAM_MS }),
    record("new", { viewers: 2, game: "A", startedAt: NOW - 60_000 }),
  ]);
  const { newStreams } = board.summary(NOW);
  assert.equal(newStreams.count, 2);
  assert.deepEqual(newStreams.latest.map((s) => [s.id, s.uptimeSeconds]), [
    ["new", 60],
    ["edge", NEW_STREAM_MS / 1000],
  ]);
  assert.equal(newStreams.latest[0].startedAt, "2026-12-03T11:59:00Z");
});

Deno.test("top tags count streams per tag", () => {
  const board = new LiveBoard();
  board.acknowledged([
    record("1", { viewers: 1, game: "A", tags: ["English", "Chill"] }),
    record("2", { viewers: 1, game: "A", tags: ["English"] }),
    record("3", { viewers: 1, game: "A", tags: ["Deutsch", "Chill"] }),
    record("4", { viewers: 1, game: "A", tags: ["English"] }),
  ]);
  assert.deepEqual(board.summary(NOW, 2).topTags, [
    { tag: "English", streams: 3 },
    { tag: "Chill", streams: 2 },
  ]);
});

Deno.test("a long title is cut without splitting a 4-byte character, and short text is kept whole", () => {
  const emoji = "\u{1F600}";
  const text = "a".repeat(MAX_TEXT - 2) + emoji + "tail";
  const short = cut(text);
  assert.equal(short, "a".repeat(MAX_TEXT - 2) + "…");
  assert.equal(cut("<b>x</b>"), "<b>x</b>");
  const board = new LiveBoard();
  board.acknowledged([record("1", { viewers: 1, game: "A", title: "x".repeat(5000) })]);
  assert.equal(board.summary(NOW).topStreams[0].title.length, MAX_TEXT);
});

Deno.test("the summary of 100,000 live streams stays under 16 KB of JSON", () => {
  const board = new LiveBoard();
  const records: StreamRecord[] = [];
  for (let i = 0; i < 100_000; i++) {
    records.push(record(String(i), {
      viewers: i % 1000,
      game: `Game ${i % 500}`,
      tags: [`tag${i % 300}`, "English"],
      title: "t".repeat(140),
      startedAt: NOW - (i % 7200) * 1000,
    }));
  }
  board.acknowledged(records);
  const summary = board.summary(NOW);
  assert.equal(summary.streams, 100_000);
  const bytes = new TextEncoder().encode(JSON.stringify(summary)).length;
  assert.ok(bytes < 16_384, `${bytes} bytes`);
});

Deno.test("covered counts the live streams and viewers of watched logins", () => {
  const records = [
    record("1", { viewers: 10, game: "A" }),
    record("2", { viewers: 30, game: "A" }),
  ];
  const board = new LiveBoard(["Login2", "nobody"]);
  board.acknowledged(records);
  assert.deepEqual(board.covered(), { streams: 1, viewers: 30 });
  const unwatched = new LiveBoard();
  unwatched.acknowledged(records);
  assert.deepEqual(unwatched.covered(), { streams: 0, viewers: 0 });
});

Deno.test("totals kept as records come and go equal totals counted afresh", () => {
  const seed = 42;
  console.log(`seed ${seed}`);
  let state = seed;
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const kept = new LiveBoard();
  const latest = new Map<string, StreamRecord>();
  for (let step = 0; step < 2000; step++) {
    const id = String(Math.floor(random() * 50));
    const tags = [`t${Math.floor(random() * 4)}`, `t${Math.floor(random() * 4)}`];
    const r = random() < 0.3 ? tombstone(id) : record(id, {
      viewers: Math.floor(random() * 100),
      game: `G${Math.floor(random() * 5)}`,
      tags,
    });
    kept.acknowledged([r]);
    if (r.value === null) latest.delete(id);
    else latest.set(id, r);
  }
  const afresh = new LiveBoard();
  afresh.acknowledged([...latest.values()]);
  assert.ok(latest.size > 0);
  assert.deepEqual(kept.summary(NOW, 50), afresh.summary(NOW, 50));
});

Deno.test("only streams that can reach the page keep their text: the 100 biggest and the new ones", () => {
  const board = new LiveBoard();
  const records = Array.from({ length: 300 }, (_, i) =>
    record(String(1000 + i), {
      viewers: i,
      game: "A",
    }));
  records.push(record("new", { viewers: 0, game: "A", startedAt: NOW - 60_000 }));
  // Two halves: the floor follows the live set as records arrive.
  board.acknowledged(records.slice(0, 150));
  board.acknowledged(records.slice(150));
  board.acknowledged(records.slice(0, 150));
  const summary = board.summary(NOW);
  assert.deepEqual(
    summary.topStreams.map((s) => s.title),
    records.slice(290, 300).reverse().map((r) => JSON.parse(r.value!).title),
  );
  assert.equal(board.channel("1299"), "Name1299");
  assert.equal(board.channel("1000"), null);
  assert.equal(board.channel("new"), "Namenew");
  assert.equal(summary.newStreams.latest[0].channel, "Namenew");
});

Deno.test("tags and games no stream uses any more are forgotten, and their ids are reused", () => {
  const board = new LiveBoard();
  board.acknowledged([record("1", { viewers: 1, game: "A", tags: ["x", "y", "x"] })]);
  assert.deepEqual(board.summary(NOW).topTags, [{ tag: "x", streams: 1 }, {
    tag: "y",
    streams: 1,
  }]);
  board.acknowledged([record("1", { viewers: 1, game: "B", tags: ["z"] })]);
  assert.deepEqual(board.summary(NOW).topTags, [{ tag: "z", streams: 1 }]);
  assert.deepEqual(board.summary(NOW).topGamesByStreams.map((g) => g.name), ["B"]);
  board.acknowledged([tombstone("1"), record("2", { viewers: 1, game: "C", tags: ["w", "x"] })]);
  const summary = board.summary(NOW);
  assert.deepEqual(summary.topTags, [{ tag: "w", streams: 1 }, { tag: "x", streams: 1 }]);
  assert.deepEqual(summary.topGamesByViewers.map((g) => g.name), ["C"]);
  assert.equal(summary.streams, 1);
});

Deno.test("more distinct tags than code points count only as many as have one, and nothing throws", () => {
  const table = new TagTable();
  const codes: string[] = [];
  for (let i = 0; i < 1_112_100; i += 100) {
    codes.push(table.add(Array.from({ length: 100 }, (_, j) => `t${i + j}`)));
  }
  const last = table.add(["beyond", "t0"]);
  assert.equal([...last].length, 1);
  assert.equal(table.counts().length, 0x10ffff - 0x800 + 1);
  for (const code of codes) table.remove(code);
  table.remove(last);
  assert.equal(table.counts().length, 0);
  // Freed ids take new tags again.
  assert.equal([...table.add(["again"])].length, 1);
});
