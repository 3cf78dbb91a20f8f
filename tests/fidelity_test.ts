/**
 * The topic against the truth while Helix behaves as Twitch's does: cache
 * nodes minutes behind, new streams listed long after stream.online. The
 * real Helix client, scan and watcher run against the simulator on a
 * simulated clock (`support/fidelity.ts`), so minutes pass in seconds.
 */

import assert from "node:assert/strict";
import { runFidelity } from "./support/fidelity.ts";

Deno.test("with cache nodes 300 s behind and EventSub on, no id stream.offline tombstoned comes back live", async () => {
  const { topic, reports, events } = await runFidelity({
    sim: { streams: 500, churn: 30, restartRate: 0.5, seed: 3, cacheLagSeconds: 300 },
    watch: 100,
    scans: 8,
  });
  const offlineAt = new Map<string, number>();
  const revived: string[] = [];
  for (const [i, { record }] of topic.entries()) {
    if (record.value === null && record.headers["end-reason"] === "offline") {
      if (!offlineAt.has(record.key)) offlineAt.set(record.key, i);
    } else if (record.value !== null && offlineAt.has(record.key)) {
      revived.push(record.key);
    }
  }
  assert.deepEqual(revived, []);
  // The test has teeth: channels did go offline, and lagging nodes listed ended broadcasts.
  assert.ok(events.filter((e) => e.type === "stream.offline").length >= 10);
  assert.ok(offlineAt.size >= 10, `${offlineAt.size} offline tombstones`);
  assert.ok(
    reports.reduce((n, r) => n + r.summary.superseded, 0) > 0,
    "no stale page was overruled",
  );
});

Deno.test("with stream.online 90 s ahead of Helix, a watched channel's new broadcast is in the topic within 100 s, before the next scan", async () => {
  const { topic, events } = await runFidelity({
    sim: { streams: 500, churn: 30, restartRate: 0.5, seed: 4, onlineLagSeconds: 90 },
    watch: 100,
    scans: 2,
    // One scan at the start and one 5 minutes later: only EventSub can be this quick.
    scanEveryMs: 300_000,
  });
  const firstValue = new Map<string, { at: number; scanId: string }>();
  for (const { record, at } of topic) {
    if (record.value !== null && !firstValue.has(record.key)) {
      firstValue.set(record.key, { at, scanId: record.headers["scan-id"] });
    }
  }
  const ends = new Map<string, number>();
  for (const e of events) if (e.type === "stream.offline") ends.set(e.userId, e.receivedAt);
  const late: string[] = [];
  let judged = 0;
  for (const e of events) {
    if (e.type !== "stream.online") continue;
    // Judge broadcasts that lasted 100 s and began early enough to be judged in the run.
    const offline = events.find((o) =>
      o.type === "stream.offline" && o.userId === e.userId && o.receivedAt > e.receivedAt
    );
    if (offline !== undefined && offline.receivedAt - e.receivedAt < 100_000) continue;
    if (e.receivedAt > events[events.length - 1].receivedAt - 100_000) continue;
    judged++;
    const seen = firstValue.get(e.streamId!);
    if (seen === undefined || seen.at - e.receivedAt > 100_000 || seen.scanId !== "eventsub") {
      late.push(
        `${e.streamId}: ${seen ? `${seen.at - e.receivedAt} ms, ${seen.scanId}` : "never"}`,
      );
    }
  }
  assert.ok(judged >= 3, `only ${judged} broadcasts to judge`);
  assert.deepEqual(late, []);
});
