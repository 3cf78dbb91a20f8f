import assert from "node:assert/strict";
import { ApiClient } from "@twurple/api";
import { AppTokenAuthProvider } from "@twurple/auth";
import { MAX_BROADCAST_MS } from "../helix/stream.ts";
import { generateStreams, startSimulator } from "./mod.ts";
import { HOSTILE_EVERY, HOSTILE_TITLES } from "./hostile.ts";
import { withMockApiPort } from "./_mock_port.ts";
import { fetchToken, getStreams, scanAll } from "./_test_utils.ts";

const T0 = 1_750_000_000_000;

Deno.test("a full paged scan of a static world returns exactly its streams, once each", async () => {
  await using sim = await startSimulator({ streams: 1234, seed: 3 });
  const { streams, pages } = await scanAll(sim, await fetchToken(sim), { first: "100" });
  assert.equal(pages, 13);
  assert.equal(streams.length, 1234);
  assert.deepEqual(new Set(streams.map((s) => s.id)), new Set(sim.liveIds()));
});

Deno.test("served streams are exactly the generated ones", async () => {
  const now = T0;
  await using sim = await startSimulator({ streams: 300, seed: 8, clock: () => now });
  const { streams } = await scanAll(sim, await fetchToken(sim), { first: "100" });
  const byId = new Map(generateStreams(8, 300, { now: T0 }).map((s) => [s.id, s]));
  for (const s of streams) assert.deepEqual(s, byId.get(s.id));
});

Deno.test("streams come highest viewer count first, across pages", async () => {
  await using sim = await startSimulator({ streams: 700 });
  const { streams } = await scanAll(sim, await fetchToken(sim), { first: "100" });
  const viewers = streams.map((s) => s.viewer_count);
  assert.deepEqual(viewers, [...viewers].sort((a, b) => b - a));
  assert.deepEqual(streams.map((s) => s.id), sim.liveIds());
});

Deno.test("a page holds 20 streams by default and the last page has no cursor", async () => {
  await using sim = await startSimulator({ streams: 45 });
  const token = await fetchToken(sim);
  const first = await getStreams(sim, token);
  assert.equal(first.body.data.length, 20);
  assert.equal(typeof first.body.pagination.cursor, "string");
  const second = await getStreams(sim, token, { after: first.body.pagination.cursor! });
  const third = await getStreams(sim, token, { after: second.body.pagination.cursor! });
  assert.equal(third.body.data.length, 5);
  assert.deepEqual(third.body.pagination, {});
});

Deno.test("a world that fits one page answers without a cursor", async () => {
  await using sim = await startSimulator({ streams: 100 });
  const answer = await getStreams(sim, await fetchToken(sim), { first: "100" });
  assert.equal(answer.body.data.length, 100);
  assert.deepEqual(answer.body.pagination, {});
});

Deno.test("an empty world answers an empty page", async () => {
  await using sim = await startSimulator({ streams: 0 });
  const answer = await getStreams(sim, await fetchToken(sim));
  assert.deepEqual(answer.body, { data: [], pagination: {} });
});

Deno.test("a before cursor goes back to the previous page", async () => {
  await using sim = await startSimulator({ streams: 500 });
  const token = await fetchToken(sim);
  const page1 = await getStreams(sim, token, { first: "30" });
  const page2 = await getStreams(sim, token, { first: "30", after: page1.body.pagination.cursor! });
  const back = await getStreams(sim, token, { first: "30", before: page2.body.pagination.cursor! });
  assert.deepEqual(back.body.data.map((s) => s.id), page1.body.data.map((s) => s.id));
  assert.deepEqual(back.body.pagination, {});
});

Deno.test("the language filter returns exactly the streams of those languages", async () => {
  await using sim = await startSimulator({ streams: 2000 });
  const { streams } = await scanAll(sim, await fetchToken(sim), {
    first: "100",
    language: ["de", "ja"],
  });
  const expected = sim.liveStreams().filter((s) => s.language === "de" || s.language === "ja");
  assert.deepEqual(streams.map((s) => s.id), expected.map((s) => s.id));
  assert.ok(expected.length > 100);
});

Deno.test("the game filter returns exactly the streams of that category", async () => {
  await using sim = await startSimulator({ streams: 2000 });
  const { streams } = await scanAll(sim, await fetchToken(sim), { first: "50", game_id: "509658" });
  const expected = sim.liveStreams().filter((s) => s.game_id === "509658");
  assert.deepEqual(streams.map((s) => s.id), expected.map((s) => s.id));
});

Deno.test("user ids and logins select those users' streams together", async () => {
  await using sim = await startSimulator({ streams: 1000 });
  const live = sim.liveStreams();
  const [a, b, c] = [live[500], live[10], live[900]];
  const answer = await getStreams(sim, await fetchToken(sim), {
    user_id: [a.user_id, "999"],
    user_login: [b.user_login.toUpperCase(), c.user_login, "nobody_here1"],
  });
  assert.deepEqual(answer.body.data.map((s) => s.id), [b.id, a.id, c.id]);
});

Deno.test("user and language filters combine", async () => {
  await using sim = await startSimulator({ streams: 1000 });
  const live = sim.liveStreams();
  const english = live.find((s) => s.language === "en")!;
  const other = live.find((s) => s.language !== "en")!;
  const answer = await getStreams(sim, await fetchToken(sim), {
    user_id: [english.user_id, other.user_id],
    language: "en",
  });
  assert.deepEqual(answer.body.data.map((s) => s.id), [english.id]);
});

Deno.test("type=live and type=all list the same live streams", async () => {
  await using sim = await startSimulator({ streams: 50 });
  const token = await fetchToken(sim);
  const live = await getStreams(sim, token, { type: "live", first: "100" });
  const all = await getStreams(sim, token, { type: "all", first: "100" });
  assert.deepEqual(live.body.data.map((s) => s.id), all.body.data.map((s) => s.id));
});

Deno.test("expired streams are listed with a started_at over 48 hours old", async () => {
  const now = T0;
  await using sim = await startSimulator({ streams: 400, expiredStreams: 7, clock: () => now });
  const { streams } = await scanAll(sim, await fetchToken(sim), { first: "100" });
  const old = streams.filter((s) => now - Date.parse(s.started_at) > MAX_BROADCAST_MS);
  assert.equal(old.length, 7);
});

Deno.test("without churn the world stays the same however much time passes", async () => {
  let now = T0;
  await using sim = await startSimulator({ streams: 300, clock: () => now });
  const token = await fetchToken(sim);
  const before = (await scanAll(sim, token, { first: "100" })).streams;
  now += 3 * 3600_000;
  const after = (await scanAll(sim, await fetchToken(sim), { first: "100" })).streams;
  assert.deepEqual(after, before);
});

Deno.test("with churn a paged scan sees some streams twice and misses others, as on Twitch", async () => {
  const now = T0;
  await using sim = await startSimulator({ streams: 3000, churn: 100, clock: () => now });
  const token = await fetchToken(sim);
  const liveAtStart = new Set(sim.liveIds());
  const { streams } = await scanAll(sim, token, { first: "100" });
  const liveAtEnd = new Set(sim.liveIds());
  const seen = new Set(streams.map((s) => s.id));
  const duplicates = streams.length - seen.size;
  const missed = [...liveAtEnd].filter((id) => liveAtStart.has(id) && !seen.has(id));
  assert.ok(duplicates > 0, "no duplicates");
  assert.ok(missed.length > 0, "no misses");
  assert.ok(
    [...seen].every((id) =>
      liveAtStart.has(id) || !liveAtStart.has(id) && liveAtEnd.has(id) || true
    ),
  );
});

Deno.test("with churn streams end and new ones start as time passes", async () => {
  let now = T0;
  await using sim = await startSimulator({ streams: 2000, churn: 1, clock: () => now });
  const token = await fetchToken(sim);
  const initial = new Set(sim.liveIds());
  now += 30 * 60_000;
  const later = sim.liveIds();
  const ended = [...initial].filter((id) => !later.includes(id));
  const started = later.filter((id) => !initial.has(id));
  assert.ok(ended.length > 50 && ended.length < 500, `${ended.length} ended`);
  assert.ok(started.length > 50 && started.length < 500, `${started.length} started`);
  const maxInitial = Math.max(...[...initial].map(Number));
  assert.ok(started.every((id) => Number(id) > maxInitial));
  const { streams } = await scanAll(sim, token, { first: "100" });
  const fresh = streams.filter((s) => started.includes(s.id));
  assert.ok(fresh.every((s) => now - Date.parse(s.started_at) < 30 * 60_000 + 1000));
});

Deno.test("twurple's ApiClient with an app token pages through every stream", async () => {
  await using sim = await startSimulator({ streams: 777 });
  await withMockApiPort(sim.port, async () => {
    const api = new ApiClient({
      authProvider: new AppTokenAuthProvider(sim.clientId, sim.clientSecret),
    });
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.callApi<{ data: { id: string }[]; pagination: { cursor?: string } }>({
        type: "helix",
        url: "streams",
        query: { first: "100", type: "live", ...(cursor ? { after: cursor } : {}) },
      });
      ids.push(...page.data.map((s) => s.id));
      cursor = page.pagination.cursor;
    } while (cursor);
    assert.equal(ids.length, 777);
    assert.deepEqual(new Set(ids), new Set(sim.liveIds()));
    assert.equal(sim.stats.tokensIssued, 1);
  });
});

Deno.test("twurple gets a new token by itself when the old one is revoked", async () => {
  await using sim = await startSimulator({ streams: 30 });
  await withMockApiPort(sim.port, async () => {
    const api = new ApiClient({
      authProvider: new AppTokenAuthProvider(sim.clientId, sim.clientSecret),
    });
    await api.callApi({ type: "helix", url: "streams" });
    sim.revokeTokens();
    const page = await api.callApi<{ data: unknown[] }>({ type: "helix", url: "streams" });
    assert.equal(page.data.length, 20);
    assert.equal(sim.stats.tokensIssued, 2);
  });
});

Deno.test("SIM_UNLISTED_LANGUAGES streams carry codes outside the language list", async () => {
  await using sim = await startSimulator({ streams: 300, unlistedStreams: 20, seed: 5 });
  const streams = sim.liveStreams();
  const unlisted = streams.filter((s) => s.language.includes("-") && s.language !== "zh-hk");
  assert.equal(unlisted.length, 20);
  assert.deepEqual(
    [...new Set(unlisted.map((s) => s.language))].sort(),
    ["de-at", "en-gb", "es-mx", "fr-ca", "pt-br"],
  );
});

Deno.test("SIM_HOSTILE_TITLES gives every fourth stream a hostile title and leaves every other field as it was", async () => {
  await using plain = await startSimulator({ streams: 200, seed: 9 });
  await using hostile = await startSimulator({ streams: 200, seed: 9, hostileTitles: true });
  const before = plain.liveStreams();
  const after = hostile.liveStreams();
  assert.deepEqual(
    after.map((s) => ({ ...s, title: "" })),
    before.map((s) => ({ ...s, title: "" })),
  );
  const changed = after.filter((s, i) => s.title !== before[i].title);
  assert.equal(changed.length, 200 / HOSTILE_EVERY);
  assert.deepEqual(new Set(changed.map((s) => s.title)), new Set(HOSTILE_TITLES));
  // Markup, a direction override, characters outside the BMP and a title far past 140 characters.
  assert.ok(HOSTILE_TITLES.some((t) => t.includes("<script>")));
  assert.ok(HOSTILE_TITLES.some((t) => t.includes("\u202E")));
  assert.ok(HOSTILE_TITLES.some((t) => /\p{Extended_Pictographic}/u.test(t) && t.length > 140));
});
