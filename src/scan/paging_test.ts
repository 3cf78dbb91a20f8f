import assert from "node:assert/strict";
import { LaneTrail, pageBound, pagesAllowed } from "./paging.ts";
import { runScan } from "./scan.ts";
import { createHelixSource } from "../helix/client.ts";
import { type SimulatorOptions, startSimulator } from "../sim/mod.ts";
import { withMockApiPort } from "../sim/_mock_port.ts";
import { createMemorySink, fakeStream } from "./_test_utils.ts";
import type { HelixQuery } from "../helix/client.ts";

function page(...streams: [string, number][]) {
  return streams.map(([id, viewers]) => fakeStream(id, { viewer_count: viewers }));
}

Deno.test("a lane that comes back to its first page ends there", () => {
  const trail = new LaneTrail();
  assert.equal(trail.loopsBack(page(["a", 90], ["b", 80], ["c", 70])), null);
  assert.equal(trail.loopsBack(page(["d", 60], ["e", 50], ["f", 40])), null);
  assert.equal(trail.loopsBack(page(["a", 91], ["b", 79], ["c", 70])), "page 1 again");
});

Deno.test("a page that jumps back up in viewers to mostly known streams is a loop", () => {
  const trail = new LaneTrail();
  trail.loopsBack(page(["a", 90], ["b", 80], ["c", 70], ["d", 65], ["e", 60]));
  trail.loopsBack(page(["f", 50], ["g", 40], ["h", 30], ["i", 20], ["j", 10]));
  // The top stream moved, but the page is back among the first page's streams.
  assert.equal(
    trail.loopsBack(page(["b", 95], ["a", 88], ["c", 70], ["d", 65], ["new", 62])),
    "jump back up",
  );
});

Deno.test("a stream seen twice while paging is no loop", () => {
  const trail = new LaneTrail();
  trail.loopsBack(page(["a", 90], ["b", 80], ["c", 70], ["d", 65], ["e", 60]));
  // `a` moved down while the lane paged: listed again, at its new count.
  assert.equal(trail.loopsBack(page(["f", 50], ["a", 45], ["g", 40], ["h", 30], ["i", 20])), null);
  assert.equal(trail.loopsBack([]), null);
});

Deno.test("a cursor followed before is a loop; a restarted lane forgets its pages", () => {
  const trail = new LaneTrail();
  assert.equal(trail.seenCursor("x"), false);
  assert.equal(trail.seenCursor("x"), true);
  trail.loopsBack(page(["a", 90], ["b", 80]));
  trail.restart();
  assert.equal(trail.loopsBack(page(["a", 90], ["b", 80])), null);
});

Deno.test("the page bound is twice the streams expected, never below Twitch's busiest day", () => {
  assert.equal(pageBound({ expected: 0, lanes: 1 }), 1220);
  assert.equal(pageBound({ expected: 100_000, lanes: 10 }), 2200);
});

Deno.test("the bound grows with the distinct streams a scan finds, not with pages", () => {
  // A fresh topic expects nothing; 150,000 streams found allow twice as many.
  assert.equal(pagesAllowed({ bound: 1220, distinct: 150_000, lanes: 1 }), 3020);
  // A loop finds no new streams: the bound stays.
  assert.equal(pagesAllowed({ bound: 1220, distinct: 50_000, lanes: 1 }), 1220);
  assert.equal(pagesAllowed({ bound: 4000, distinct: 150_000, lanes: 1 }), 4000);
});

/** One scan against a simulator through the real Helix client; what it wrote and paged. */
async function scanSimulator(options: Partial<SimulatorOptions>, queries: HelixQuery[] = [{}]) {
  await using sim = await startSimulator(options);
  return await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    const sink = createMemorySink();
    const truth = new Set(sim.liveIds());
    const { summary } = await runScan({
      source,
      sink,
      plan: { queries, sharded: queries.length > 1 },
      previous: null,
      scanId: "scan",
      concurrency: 4,
      cursorRetryMs: 0,
    });
    const keys = sink.written.map((r) => r.key);
    return { summary, keys, truth, served: sim.stats.pagesServed };
  });
}

Deno.test("with SIM_CURSOR_LOOP a scan ends after the pages it would take anyway, each stream once", async () => {
  const plain = await scanSimulator({ streams: 1234, seed: 4 });
  const looping = await scanSimulator({ streams: 1234, seed: 4, cursorLoop: true });
  assert.equal(plain.summary.pages, 13);
  // One page more: the first page again, which ends the lane.
  assert.equal(looping.summary.pages, 14);
  assert.equal(looping.summary.result, "ok");
  assert.equal(new Set(looping.keys).size, looping.keys.length);
  assert.deepEqual(new Set(looping.keys), looping.truth);
  assert.equal(looping.summary.duplicates, 0);
});

Deno.test("with SIM_CURSOR_LOOP under churn, every lane of a sharded scan ends and no stream is written twice", async () => {
  const languages = [["en"], ["de"], ["fr"], ["es", "pt"]].map((language) => ({ language }));
  const options = { streams: 3000, seed: 5, churn: 20, cursorLoop: true };
  const plain = await scanSimulator({ ...options, cursorLoop: false }, languages);
  const looping = await scanSimulator(options, languages);
  assert.equal(looping.summary.result, "ok");
  assert.ok(
    looping.summary.pages <= plain.summary.pages + languages.length + 1,
    `${looping.summary.pages} pages against ${plain.summary.pages}`,
  );
  assert.equal(new Set(looping.keys).size, looping.keys.length);
});

Deno.test("a cursor Helix calls invalid is asked again, and the scan still succeeds with every stream", async () => {
  const { summary, keys, truth } = await scanSimulator({
    streams: 1234,
    seed: 6,
    badCursorRate: 0.3,
  });
  assert.equal(summary.result, "ok");
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(new Set(keys), truth);
});

Deno.test("a cursor Helix always refuses restarts the lane twice, then fails the scan", async () => {
  const { summary } = await scanSimulator({ streams: 250, badCursorRate: 1 });
  assert.equal(summary.result, "failed");
  // Each start: page 1, then three refusals of its cursor.
  assert.equal(summary.pages, 3);
  assert.match(summary.failure!.message, /invalid cursor/);
});

Deno.test("empty pages near the end do not end the lane early", async () => {
  const { summary, keys, truth } = await scanSimulator({
    streams: 1234,
    seed: 7,
    emptyPageRate: 0.5,
    cursorLoop: true,
  });
  assert.equal(summary.result, "ok");
  assert.deepEqual(new Set(keys), truth);
  assert.equal(new Set(keys).size, keys.length);
});
