import assert from "node:assert/strict";
import { seeded, testSeed } from "../_test_seeded.ts";
import {
  coverage,
  type Member,
  type RankedChannel,
  rankingOf,
  selectChannels,
} from "./channels.ts";

const NOW = 1_000_000_000;

/** Channels c0..c(n-1) with c0 the most watched. */
function channels(n: number, viewers = (i: number) => 10_000 - i): RankedChannel[] {
  return Array.from({ length: n }, (_, i) => ({ userId: `c${i}`, viewers: viewers(i) }));
}

function set(ids: string[], lastLiveAt = NOW): Map<string, Member> {
  return new Map(ids.map((id) => [id, { lastLiveAt }]));
}

Deno.test("the set starts as the pinned channels plus the most watched, cap in all", () => {
  const next = selectChannels(new Map(), channels(10), { cap: 4, pinned: ["p"], now: NOW });
  assert.deepEqual([...next.keys()], ["p", "c0", "c1", "c2"]);
});

Deno.test("a member just past the cut stays: no churn at the edge", () => {
  const current = set(["c0", "c1", "c2", "c3"]);
  // c4 climbs to rank 1 and pushes c3 to rank 4, just past the cut of 4: under 1.25 × 4 = 5,
  // so c3 keeps its place and c4 waits for a free one.
  const live = channels(10).map((c) =>
    c.userId === "c3"
      ? { ...c, viewers: 9_995.5 }
      : c.userId === "c4"
      ? { ...c, viewers: 9_999.5 }
      : c
  );
  const next = selectChannels(current, live, { cap: 4, pinned: [], now: NOW + 1 });
  assert.deepEqual([...next.keys()].sort(), ["c0", "c1", "c2", "c3"]);
});

Deno.test("a channel in the top cap displaces a member ranked at 1.25 × cap or worse", () => {
  const current = set(["c0", "c1", "c2", "c3"]);
  const live = channels(10).map((c) => c.userId === "c3" ? { ...c, viewers: 1 } : c);
  const next = selectChannels(current, live, { cap: 4, pinned: [], now: NOW + 1 });
  assert.deepEqual([...next.keys()].sort(), ["c0", "c1", "c2", "c4"]);
});

Deno.test("an offline member stays for the grace, then leaves for a live channel", () => {
  const current = set(["c0", "c1", "gone"]);
  const live = channels(5);
  const within = selectChannels(current, live, {
    cap: 3,
    pinned: [],
    now: NOW + 60_000,
    offlineGraceMs: 120_000,
  });
  assert.deepEqual([...within.keys()].sort(), ["c0", "c1", "gone"]);
  assert.equal(within.get("gone")!.lastLiveAt, NOW);
  const after = selectChannels(within, live, {
    cap: 3,
    pinned: [],
    now: NOW + 120_000,
    offlineGraceMs: 120_000,
  });
  assert.deepEqual([...after.keys()].sort(), ["c0", "c1", "c2"]);
});

Deno.test("pinned channels count in the cap and are never evicted, live or not", () => {
  const next = selectChannels(set(["c0"]), channels(5), {
    cap: 2,
    pinned: ["p1", "p2"],
    now: NOW + 10 * 3_600_000,
  });
  assert.deepEqual([...next.keys()], ["p1", "p2"]);
});

Deno.test("a stable ranking moves no channel from one scan to the next", () => {
  let current = new Map<string, Member>();
  const live = channels(100);
  current = selectChannels(current, live, { cap: 20, pinned: [], now: NOW });
  const again = selectChannels(current, live, { cap: 20, pinned: [], now: NOW + 60_000 });
  assert.deepEqual([...again.keys()].sort(), [...current.keys()].sort());
});

Deno.test("coverage is the share of live viewers in the set", () => {
  const live = [{ userId: "a", viewers: 75 }, { userId: "b", viewers: 25 }];
  assert.equal(coverage(live, new Set(["a"])), 0.75);
  assert.equal(coverage([], new Set(["a"])), 0);
});

Deno.test("the part of the live set rankingOf keeps selects the same channels as all of it", () => {
  const seed = testSeed();
  const random = seeded(seed);
  for (let run = 0; run < 200; run++) {
    const cap = 1 + Math.floor(random() * 30);
    const universe = Math.floor(random() * 400);
    const pinned = Array.from(
      { length: Math.floor(random() * 4) },
      () => `c${Math.floor(random() * (universe + 5))}`,
    );
    let current = new Map<string, Member>();
    for (let scan = 0; scan < 5; scan++) {
      const now = NOW + scan * 20 * 60_000;
      // Few distinct viewer counts: many ties at the cut.
      const live = channels(universe, () => Math.floor(random() * 20))
        .filter(() => random() < 0.8);
      const keep = new Set([...current.keys(), ...pinned]);
      const part = rankingOf(live, { top: 1.5 * cap, keep });
      const options = { cap, pinned, now };
      const whole = selectChannels(current, live, options);
      const fromPart = selectChannels(current, part.channels, options);
      const context = `seed ${seed}, run ${run}, scan ${scan}`;
      assert.deepEqual([...fromPart], [...whole], context);
      const members = new Set(whole.keys());
      assert.equal(
        coverage(part.channels, members, part.viewers),
        coverage(live, members),
        context,
      );
      current = whole;
    }
  }
});

Deno.test("rankingOf keeps the best channels and the ones it is told to, not the whole live set", () => {
  const live = channels(100_000, (i) => (i * 7919) % 100_000);
  const part = rankingOf(live, { top: 30, keep: new Set(["c5", "c77"]) });
  const best = [...live].sort((a, b) => b.viewers - a.viewers).slice(0, 30).map((c) => c.userId);
  assert.deepEqual(
    part.channels.map((c) => c.userId).sort(),
    [...best.filter((id) => id !== "c5" && id !== "c77"), "c5", "c77"].sort(),
  );
  assert.equal(part.viewers, live.reduce((sum, c) => sum + c.viewers, 0));
});
