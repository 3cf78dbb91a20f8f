import assert from "node:assert/strict";
import { Prng } from "../sim/prng.ts";
import { IdSet, LiveSet } from "./live_set.ts";
import type { LiveStream } from "./record.ts";

function live(userId: string, startedAt: number, login = `user${userId}`): LiveStream {
  return { userId, startedAt, language: "en", gameId: "509658", userLogin: login };
}

Deno.test("a LiveSet answers as a Map does, in insertion order, after replacing and deleting", () => {
  const set = new LiveSet();
  set.set("40012345678", live("123", 1_700_000_000_000));
  set.set("t0", live("u-7", 5, "Ünïcode"));
  set.set("7", live("8", 6));
  set.set("40012345678", live("124", 7, "renamed"));
  assert.equal(set.delete("7"), true);
  assert.equal(set.delete("7"), false);
  assert.equal(set.size, 2);
  assert.deepEqual([...set], [
    ["40012345678", live("124", 7, "renamed")],
    ["t0", live("u-7", 5, "Ünïcode")],
  ]);
  assert.equal(set.has("t0"), true);
  assert.equal(set.get("7"), undefined);
  assert.equal(set.userIdOf("40012345678"), "124");
});

Deno.test("ids that are not canonical decimal numbers stay strings", () => {
  const set = new LiveSet();
  for (const id of ["01", "0", "", "1e3", "12345678901234567", "-1", " 1"]) {
    set.set(id, live(id, 1));
  }
  assert.deepEqual([...set.keys()], ["01", "0", "", "1e3", "12345678901234567", "-1", " 1"]);
  assert.deepEqual([...set.values()].map((s) => s.userId), [...set.keys()]);
  assert.equal(set.has("1"), false);
});

Deno.test("a LiveSet and an IdSet match a Map and a Set over random operations", () => {
  const seed = Number(Deno.env.get("LIVE_SET_SEED") ?? Date.now() % 1_000_000);
  const rng = new Prng(seed);
  const set = new LiveSet();
  const ids = new IdSet();
  const map = new Map<string, LiveStream>();
  const plain = new Set<string>();
  for (let step = 0; step < 60_000; step++) {
    const id = rng.chance(0.05) ? `s${rng.int(0, 300)}` : String(rng.int(0, 20_000) * 7919);
    const roll = rng.next();
    if (roll < 0.55) {
      const value = live(String(rng.int(0, 1e9)), rng.int(0, 2e12), `login${rng.int(0, 1e6)}`);
      set.set(id, value);
      map.set(id, value);
      ids.add(id);
      plain.add(id);
    } else {
      assert.equal(set.delete(id), map.delete(id), `seed ${seed}, step ${step}`);
      assert.equal(ids.delete(id), plain.delete(id), `seed ${seed}, step ${step}`);
    }
    if (step % 10_000 === 9_999) {
      assert.deepEqual([...set], [...map], `seed ${seed}, step ${step}`);
      assert.deepEqual([...ids], [...plain], `seed ${seed}, step ${step}`);
      assert.deepEqual([...LiveSet.from(set)], [...map], `seed ${seed}, copy at step ${step}`);
    }
  }
  assert.equal(set.size, map.size);
  for (const id of map.keys()) assert.deepEqual(set.get(id), map.get(id), `seed ${seed}`);
  console.log(`LIVE_SET_SEED=${seed}: ${map.size} entries`);
});

Deno.test("a LiveSet of 100,000 streams holds under 100 bytes a stream", () => {
  const set = new LiveSet();
  for (let i = 0; i < 100_000; i++) {
    set.set(String(40_000_000_000 + i * 13), live(String(100_000 + i), 1.7e12 + i, `viewer_${i}`));
  }
  assert.ok(set.bytes / set.size < 100, `${set.bytes / set.size} bytes a stream`);
});

Deno.test("a LiveSet keeps each stream's viewers, and says nothing of viewers it was not given", () => {
  const set = new LiveSet();
  set.set("1", { ...live("11", 1), viewers: 0 });
  set.set("2", { ...live("12", 2), viewers: 123_456 });
  set.set("3", live("13", 3));
  set.set("1", { ...live("11", 1), viewers: 7 });
  assert.deepEqual([...set.values()].map((s) => s.viewers), [7, 123_456, undefined]);
  assert.equal("viewers" in set.get("3")!, false);
  assert.deepEqual(LiveSet.from(set).get("2"), { ...live("12", 2), viewers: 123_456 });
});

Deno.test("idsOfUser finds a user's streams in insertion order, across deletes, compaction and odd ids", () => {
  const set = new LiveSet();
  const expected = new Map<string, string[]>();
  for (let i = 0; i < 5000; i++) {
    const id = i % 7 === 0 ? `s-${i}` : String(10_000 + i);
    const userId = i % 11 === 0 ? `u-${i % 3}` : String(i % 50);
    set.set(id, live(userId, i));
  }
  // Most rows die: the set compacts.
  for (let i = 0; i < 5000; i++) {
    if (i % 5 !== 0) set.delete(i % 7 === 0 ? `s-${i}` : String(10_000 + i));
  }
  for (const [id, stream] of set) {
    expected.set(stream.userId, [...expected.get(stream.userId) ?? [], id]);
  }
  for (const userId of [...expected.keys(), "999", "u-9"]) {
    assert.deepEqual(set.idsOfUser(userId), expected.get(userId) ?? [], userId);
  }
});
