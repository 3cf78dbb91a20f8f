import assert from "node:assert/strict";
import { advanceWorld, STEP_MS } from "./churn.ts";
import { MAX_BROADCAST_MS } from "../helix/stream.ts";
import { createWorld, liveIndices, score, streamAt, type WorldOptions } from "./world.ts";
import { selectPage } from "./page.ts";

const T0 = 1_750_000_000_000;

function world(options: Partial<WorldOptions>) {
  return createWorld({
    seed: 1,
    streams: 1000,
    expiredStreams: 0,
    churn: 1,
    epoch: T0,
    ...options,
  });
}

function isSorted(w: ReturnType<typeof world>): boolean {
  const order = liveIndices(w);
  return order.every((index, p) => p === 0 || score(w, order[p - 1]) > score(w, index));
}

Deno.test("churn 0 changes nothing, however long", () => {
  const w = world({ churn: 0 });
  const before = liveIndices(w);
  assert.deepEqual(advanceWorld(w, T0 + 86_400_000, { request: true }), {
    steps: 0,
    moved: 0,
    ended: 0,
    started: 0,
    restarted: 0,
  });
  assert.deepEqual(liveIndices(w), before);
});

Deno.test("a request takes one step even when no time has passed", () => {
  const w = world({ churn: 1 });
  assert.equal(advanceWorld(w, T0, { request: true }).steps, 1);
  assert.equal(advanceWorld(w, T0, { request: false }).steps, 0);
  assert.equal(advanceWorld(w, T0 + 10 * STEP_MS, { request: false }).steps, 9);
});

Deno.test("the order stays sorted by score through churn", () => {
  const w = world({ churn: 50 });
  for (let i = 0; i < 50; i++) advanceWorld(w, T0, { request: true });
  assert.ok(isSorted(w));
});

Deno.test("the same seed churns the same way", () => {
  const a = world({ churn: 20, seed: 4 });
  const b = world({ churn: 20, seed: 4 });
  for (let i = 0; i < 30; i++) {
    advanceWorld(a, T0 + i * 1000, { request: true });
    advanceWorld(b, T0 + i * 1000, { request: true });
  }
  assert.deepEqual(liveIndices(a), liveIndices(b));
});

Deno.test("over hours the number of live streams stays near its start", () => {
  const w = world({ churn: 1, streams: 5000 });
  for (let hour = 1; hour <= 12; hour++) advanceWorld(w, T0 + hour * 3_600_000, { request: false });
  assert.ok(w.liveCount > 4000 && w.liveCount < 6000, `${w.liveCount} live`);
  assert.ok(w.size > 5000 + 2000, `${w.size - 5000} started`);
});

Deno.test("no stream stays live past 48 hours, except the stale ones listed on purpose", () => {
  const w = world({ churn: 0.01, streams: 2000, expiredStreams: 3 });
  const now = T0 + 30 * 3_600_000;
  advanceWorld(w, now, { request: false });
  const old = liveIndices(w).filter((i) => now - w.startedAt[i] >= MAX_BROADCAST_MS);
  assert.ok(old.every((i) => i < 3), old.join());
  assert.ok(old.length > 0);
});

Deno.test("a channel that ends a stream goes live again under a new id, for the same user", () => {
  const w = world({ churn: 60, restartRate: 1 });
  let restarted = 0;
  let ended = 0;
  for (let t = 1; t <= 40; t++) {
    const report = advanceWorld(w, T0 + t * 1000, { request: false });
    restarted += report.restarted;
    ended += report.ended;
  }
  assert.ok(ended > 0 && restarted > 0, `${ended} ended, ${restarted} restarted`);
  assert.equal(w.restartedAs.size > 0, true);
  for (const [owner, index] of w.restartedAs) {
    const first = streamAt(w, owner);
    const again = streamAt(w, index);
    assert.notEqual(again.id, first.id);
    assert.equal(again.user_id, first.user_id);
    assert.equal(again.user_login, first.user_login);
    if (w.live[index] === 1) {
      // A look-up by the user's id finds the new stream.
      const page = selectPage(w, {
        first: 100,
        language: [],
        gameId: [],
        userId: [first.user_id],
        userLogin: [],
      });
      assert.deepEqual(page.indices, [index]);
    }
  }
});

Deno.test("without a restart rate no channel comes back", () => {
  const w = world({ churn: 60, restartRate: 0 });
  let restarted = 0;
  for (let t = 1; t <= 40; t++) {
    restarted += advanceWorld(w, T0 + t * 1000, { request: false }).restarted;
  }
  assert.equal(restarted, 0);
  assert.equal(w.restartedAs.size, 0);
});
