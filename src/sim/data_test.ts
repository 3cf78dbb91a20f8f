import assert from "node:assert/strict";
import {
  formatTime,
  generateStream,
  generateStreams,
  indexOfLogin,
  indexOfUserId,
  streamFacets,
} from "./data.ts";
import { MAX_BROADCAST_MS } from "../helix/stream.ts";
import { GAMES, LANGUAGES } from "./catalog.ts";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const HELIX_FIELDS = [
  "id",
  "user_id",
  "user_login",
  "user_name",
  "game_id",
  "game_name",
  "type",
  "title",
  "tags",
  "viewer_count",
  "started_at",
  "language",
  "thumbnail_url",
  "tag_ids",
  "is_mature",
];

Deno.test("the same seed and index always give the same stream", () => {
  assert.deepEqual(generateStream(7, 123, { now: NOW }), generateStream(7, 123, { now: NOW }));
});

Deno.test("different seeds give different streams", () => {
  const a = generateStreams(1, 20, { now: NOW });
  const b = generateStreams(2, 20, { now: NOW });
  assert.notDeepEqual(a.map((s) => s.user_login), b.map((s) => s.user_login));
});

Deno.test("a smaller world is exactly the first streams of a larger one", () => {
  const small = generateStreams(9, 300, { now: NOW, expiredStreams: 5 });
  const large = generateStreams(9, 3000, { now: NOW, expiredStreams: 5 });
  assert.deepEqual(small, large.slice(0, 300));
});

Deno.test("streams have Helix's fields in Helix's order", () => {
  assert.deepEqual(Object.keys(generateStream(1, 0, { now: NOW })), HELIX_FIELDS);
});

Deno.test("stream ids, user ids and logins are distinct across 50,000 streams", () => {
  const streams = generateStreams(3, 50_000, { now: NOW });
  assert.equal(new Set(streams.map((s) => s.id)).size, 50_000);
  assert.equal(new Set(streams.map((s) => s.user_id)).size, 50_000);
  assert.equal(new Set(streams.map((s) => s.user_login)).size, 50_000);
});

Deno.test("every field has Helix's form", () => {
  for (const s of generateStreams(5, 2000, { now: NOW })) {
    assert.match(s.id, /^[1-9][0-9]{11}$/);
    assert.match(s.user_id, /^[1-9][0-9]{7,8}$/);
    assert.match(s.user_login, /^[a-z0-9_]{4,25}$/);
    assert.ok(s.user_name.length > 0);
    assert.equal(s.type, "live");
    const tags = s.tags ?? [];
    assert.ok(
      s.tags !== null && tags.length <= 10 && new Set(tags).size === tags.length,
      tags.join(),
    );
    assert.ok(Number.isInteger(s.viewer_count) && s.viewer_count >= 0);
    assert.match(s.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(
      s.thumbnail_url,
      `https://static-cdn.jtvnw.net/previews-ttv/live_user_${s.user_login}-{width}x{height}.jpg`,
    );
    assert.deepEqual(s.tag_ids, []);
    assert.equal(typeof s.is_mature, "boolean");
    assert.ok(GAMES.some((g) => g.id === s.game_id && g.name === s.game_name));
    assert.ok(LANGUAGES.some((l) => l.code === s.language));
  }
});

Deno.test("streams started within the last 48 hours", () => {
  for (const s of generateStreams(4, 5000, { now: NOW })) {
    const age = NOW - Date.parse(s.started_at);
    assert.ok(age >= 0 && age < MAX_BROADCAST_MS, s.started_at);
  }
});

Deno.test("the first expiredStreams streams started more than 48 hours ago", () => {
  const streams = generateStreams(4, 100, { now: NOW, expiredStreams: 3 });
  const expired = streams.filter((s) => NOW - Date.parse(s.started_at) > MAX_BROADCAST_MS);
  assert.deepEqual(expired.map((s) => s.id), streams.slice(0, 3).map((s) => s.id));
});

Deno.test("viewer counts are heavy-tailed: most streams tiny, a few huge", () => {
  const viewers = generateStreams(1, 100_000, { now: NOW }).map((s) => s.viewer_count);
  const under10 = viewers.filter((v) => v < 10).length;
  const over10k = viewers.filter((v) => v >= 10_000).length;
  assert.ok(under10 > 80_000 && under10 < 92_000, `${under10} under 10`);
  assert.ok(over10k >= 5 && over10k <= 100, `${over10k} over 10,000`);
  assert.ok(Math.max(...viewers) <= 350_000);
});

Deno.test("English is the most common language and every share is plausible", () => {
  const counts = new Map<string, number>();
  for (const s of generateStreams(2, 20_000, { now: NOW })) {
    counts.set(s.language, (counts.get(s.language) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  assert.equal(ranked[0][0], "en");
  assert.ok(ranked[0][1] > 6000 && ranked[0][1] < 8500);
  assert.ok((counts.get("other") ?? 0) > 0);
});

Deno.test("some streams have no category", () => {
  const streams = generateStreams(2, 5000, { now: NOW });
  const none = streams.filter((s) => s.game_id === "");
  assert.ok(none.length > 0 && none.length < 500);
  assert.ok(none.every((s) => s.game_name === ""));
});

Deno.test("facets are the values the whole stream gets", () => {
  for (let i = 0; i < 500; i++) {
    const s = generateStream(11, i, { now: NOW });
    const f = streamFacets(11, i, { now: NOW });
    assert.equal(f.viewers, s.viewer_count);
    assert.equal(LANGUAGES[f.language].code, s.language);
    assert.equal(GAMES[f.game].id, s.game_id);
    assert.equal(f.startedAt, Date.parse(s.started_at));
  }
});

Deno.test("a user id or login leads back to its stream's index", () => {
  for (const i of [0, 1, 2, 999, 123_456, 5_000_000]) {
    const s = generateStream(42, i, { now: NOW });
    assert.equal(indexOfUserId(42, s.user_id), i);
    assert.equal(indexOfLogin(42, s.user_login), i);
  }
  assert.equal(indexOfUserId(42, "12"), -1);
  assert.equal(indexOfLogin(42, "nodigits"), -1);
});

Deno.test("times are written in RFC 3339 UTC with second precision", () => {
  for (const ms of [0, 951_782_400_000, 1_709_210_096_999, 1_748_779_200_000, 4_102_444_799_000]) {
    assert.equal(
      formatTime(ms),
      new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z"),
    );
  }
});
