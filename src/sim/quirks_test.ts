// Helix as it behaves in the field: lagging cache nodes, new streams listed late, a looping last
// cursor, empty pages, invalid cursors and a bucket that refills slower than advertised.
import assert from "node:assert/strict";
import { startSimulator } from "./mod.ts";
import { fetchToken, getStreams, scanAll } from "./_test_utils.ts";

const T0 = 1_750_000_000_000;

/** Every stream id one listing of all pages shows. */
async function listedIds(sim: Parameters<typeof scanAll>[0], token: string): Promise<Set<string>> {
  const { streams } = await scanAll(sim, token, { first: "100" });
  return new Set(streams.map((s) => s.id));
}

Deno.test("a lagging cache node still lists a stream that ended, a current one does not", async () => {
  let now = T0;
  const clock = () => now;
  const quirky = await startSimulator({
    streams: 300,
    seed: 5,
    churn: 30,
    cacheLagSeconds: 300,
    clock,
  });
  const plain = await startSimulator({ streams: 300, seed: 5, churn: 30, clock });
  try {
    const [quirkyToken, plainToken] = [await fetchToken(quirky), await fetchToken(plain)];
    now += 60_000;
    const truth = new Set(quirky.liveIds());
    const endedYetListed = new Set<string>();
    for (let i = 0; i < 10; i++) {
      for (const id of await listedIds(quirky, quirkyToken)) {
        if (!truth.has(id)) endedYetListed.add(id);
      }
    }
    assert.ok(endedYetListed.size > 0, "no lagging node listed an ended stream");
    const fresh = await listedIds(plain, plainToken);
    assert.equal([...fresh].filter((id) => !new Set(plain.liveIds()).has(id)).length, 0);
  } finally {
    await quirky.close();
    await plain.close();
  }
});

Deno.test("a user_id look-up flaps between cache nodes: some answers list the stream, others not", async () => {
  let now = T0;
  await using sim = await startSimulator({
    streams: 300,
    seed: 6,
    churn: 30,
    restartRate: 0,
    cacheLagSeconds: 300,
    clock: () => now,
  });
  const token = await fetchToken(sim);
  const before = new Set(sim.liveIds());
  // The world moves in 5 s steps, so that streams start all through the 150 s.
  for (let t = 0; t < 30; t++) {
    now += 5_000;
    sim.liveIds();
  }
  // Streams that started in the last 150 s: some nodes have them, older nodes not yet.
  const fresh = sim.liveStreams().filter((s) => !before.has(s.id)).slice(0, 100);
  assert.ok(fresh.length > 0);
  const answers: number[] = [];
  for (let i = 0; i < 20; i++) {
    const page = await getStreams(sim, token, { user_id: fresh.map((s) => s.user_id) });
    answers.push(page.body.data.length);
  }
  assert.ok(answers.includes(0), `always listed: ${answers}`);
  assert.ok(answers.some((n) => n > 0), `never listed: ${answers}`);
});

Deno.test("a new stream is listed SIM_ONLINE_LAG_S after it went live, not before", async () => {
  let now = T0;
  await using sim = await startSimulator({
    streams: 300,
    seed: 7,
    churn: 30,
    restartRate: 0,
    onlineLagSeconds: 90,
    clock: () => now,
  });
  const token = await fetchToken(sim);
  const before = new Set(sim.liveIds());
  now += 10_000;
  const fresh = sim.liveStreams().filter((s) => !before.has(s.id)).slice(0, 100);
  assert.ok(fresh.length > 0);
  const userIds = fresh.map((s) => s.user_id);
  assert.deepEqual((await getStreams(sim, token, { user_id: userIds })).body.data, []);
  assert.equal([...await listedIds(sim, token)].filter((id) => !before.has(id)).length, 0);
  now += 90_000;
  const listed = (await getStreams(sim, token, { user_id: userIds, first: "100" })).body.data;
  const stillLive = new Set(sim.liveIds());
  assert.deepEqual(
    new Set(listed.map((s) => s.id)),
    new Set(fresh.map((s) => s.id).filter((id) => stillLive.has(id))),
  );
});

Deno.test("with SIM_CURSOR_LOOP the last page's cursor leads back to page 1", async () => {
  await using sim = await startSimulator({ streams: 250, cursorLoop: true });
  const token = await fetchToken(sim);
  const first = await getStreams(sim, token, { first: "100" });
  const second = await getStreams(sim, token, {
    first: "100",
    after: first.body.pagination.cursor!,
  });
  const last = await getStreams(sim, token, {
    first: "100",
    after: second.body.pagination.cursor!,
  });
  assert.equal(last.body.data.length, 50);
  assert.equal(typeof last.body.pagination.cursor, "string");
  const again = await getStreams(sim, token, { first: "100", after: last.body.pagination.cursor! });
  assert.deepEqual(again.body.data.map((s) => s.id), first.body.data.map((s) => s.id));
});

Deno.test("with SIM_EMPTY_PAGES a cursor near the end may answer an empty page that goes on", async () => {
  await using sim = await startSimulator({ streams: 150, emptyPageRate: 1 });
  const token = await fetchToken(sim);
  const first = await getStreams(sim, token, { first: "100" });
  assert.equal(first.body.data.length, 100);
  const empty = await getStreams(sim, token, {
    first: "100",
    after: first.body.pagination.cursor!,
  });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.body.data, []);
  assert.equal(typeof empty.body.pagination.cursor, "string");
  // At a lower rate the last page comes through, after some empty ones.
  await using some = await startSimulator({ streams: 150, emptyPageRate: 0.5, seed: 2 });
  let pages = 0;
  let empties = 0;
  const ids = new Set<string>();
  const someToken = await fetchToken(some);
  let cursor: string | undefined;
  do {
    const page = await getStreams(some, someToken, {
      first: "100",
      ...cursor ? { after: cursor } : {},
    });
    pages++;
    if (page.body.data.length === 0) empties++;
    for (const s of page.body.data) ids.add(s.id);
    cursor = page.body.pagination.cursor;
  } while (cursor && pages < 50);
  assert.equal(ids.size, 150);
  assert.equal(pages, 2 + empties);
  assert.ok(empties > 0);
});

Deno.test("with SIM_BAD_CURSOR_RATE a page asked with a cursor is a 400 invalid cursor", async () => {
  await using sim = await startSimulator({ streams: 150, badCursorRate: 1 });
  const token = await fetchToken(sim);
  const first = await getStreams(sim, token, { first: "100" });
  assert.equal(first.status, 200);
  const next = await getStreams(sim, token, { first: "100", after: first.body.pagination.cursor! });
  assert.equal(next.status, 400);
  assert.deepEqual(next.body, { error: "Bad Request", status: 400, message: "invalid cursor" });
  assert.equal(next.headers.get("Ratelimit-Limit"), "800");
});

Deno.test("with SIM_REFILL_PER_MIN the bucket refills slower while the headers still advertise the limit", async () => {
  let now = T0;
  await using sim = await startSimulator({
    streams: 10,
    rateLimit: 60,
    refillPerMinute: 30,
    clock: () => now,
  });
  const token = await fetchToken(sim);
  const statuses = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await getStreams(sim, token)).status);
    return out;
  };
  assert.deepEqual(await statuses(61), [...Array(60).fill(200), 429]);
  now += 10_000;
  // 10 s at the advertised 60 a minute would be 10 points; at 30 a minute it is 5.
  const answer = await getStreams(sim, token);
  assert.equal(answer.headers.get("Ratelimit-Limit"), "60");
  assert.equal(answer.headers.get("Ratelimit-Remaining"), "4");
  assert.deepEqual(await statuses(5), [200, 200, 200, 200, 429]);
});
