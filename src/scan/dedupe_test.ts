import assert from "node:assert/strict";
import { ScanDeduper } from "./dedupe.ts";
interface Seen {
  id: string;
  viewers: number;
}

function s(id: string, viewers = 0): Seen {
  return { id, viewers };
}

function ids(observations: Seen[]): string[] {
  return observations.map((o) => o.id);
}

Deno.test("pages are held back for the window and then released in order", () => {
  const dedupe = new ScanDeduper<Seen>({ window: 2 });
  assert.deepEqual(dedupe.add(0, [s("a"), s("b")]), []);
  assert.deepEqual(dedupe.add(0, [s("c")]), []);
  assert.deepEqual(ids(dedupe.add(0, [s("d")])), ["a", "b"]);
  assert.deepEqual(ids(dedupe.finish(0)), ["c", "d"]);
});

Deno.test("a duplicate within the window replaces the earlier observation: one record, the later one", () => {
  const dedupe = new ScanDeduper<Seen>({ window: 3 });
  dedupe.add(0, [s("a", 100), s("b", 90)]);
  dedupe.add(0, [s("c", 80), s("a", 70)]);
  const released = dedupe.finishAll();
  assert.deepEqual(ids(released), ["a", "b", "c"]);
  assert.equal(released[0].viewers, 70);
  assert.deepEqual(dedupe.counts, { duplicates: 1, lateDuplicates: 0 });
});

Deno.test("a duplicate after release is dropped, so a scan never has two records of one stream", () => {
  const dedupe = new ScanDeduper<Seen>({ window: 1 });
  dedupe.add(0, [s("a", 100)]);
  assert.deepEqual(ids(dedupe.add(0, [s("b", 90)])), ["a"]);
  assert.deepEqual(ids(dedupe.add(0, [s("a", 50)])), ["b"]);
  assert.deepEqual(ids(dedupe.finishAll()), []);
  assert.deepEqual(dedupe.counts, { duplicates: 1, lateDuplicates: 1 });
});

Deno.test("queries hold back their pages independently", () => {
  const dedupe = new ScanDeduper<Seen>({ window: 1 });
  dedupe.add(0, [s("a")]);
  assert.deepEqual(dedupe.add(1, [s("x")]), []);
  assert.deepEqual(ids(dedupe.finish(1)), ["x"]);
  assert.deepEqual(ids(dedupe.finish(0)), ["a"]);
  assert.deepEqual([...dedupe.released].sort(), ["a", "x"]);
});

Deno.test("a duplicate seen by another query still yields one record", () => {
  const dedupe = new ScanDeduper<Seen>({ window: 5 });
  dedupe.add(0, [s("a", 10)]);
  dedupe.add(1, [s("a", 9)]);
  const released = dedupe.finishAll();
  assert.deepEqual(ids(released), ["a"]);
  assert.equal(released[0].viewers, 9);
});
