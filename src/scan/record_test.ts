import assert from "node:assert/strict";
import { type HelixStream, MAX_BROADCAST_MS } from "../helix/stream.ts";
import { isExpired, liveStream, streamRecord, tombstoneRecord } from "./record.ts";

const stream: HelixStream = {
  id: "40952121085",
  user_id: "101051819",
  user_login: "afro",
  user_name: "Afro",
  game_id: "32982",
  game_name: "Grand Theft Auto V",
  type: "live",
  title: "Jacob: Digital Den Laptops & Routers | NoPixel | !MAINGEAR !FCF",
  tags: ["English"],
  viewer_count: 1490,
  started_at: "2021-03-10T03:18:11Z",
  language: "en",
  thumbnail_url: "https://static-cdn.jtvnw.net/previews-ttv/live_user_afro-{width}x{height}.jpg",
  tag_ids: [],
  is_mature: false,
};

Deno.test("a stream record is keyed by the stream id and carries Helix's object unchanged", () => {
  const record = streamRecord(stream, { scanId: "scan-1", fetchedAt: Date.UTC(2026, 0, 1) });
  assert.equal(record.key, "40952121085");
  assert.deepEqual(JSON.parse(record.value!), stream);
  assert.equal(record.value, JSON.stringify(stream));
  assert.equal(record.timestamp, Date.UTC(2026, 0, 1));
  assert.deepEqual(record.headers, {
    "scan-id": "scan-1",
    "fetched-at": "2026-01-01T00:00:00.000Z",
  });
});

Deno.test("fields Helix adds later pass through to the record", () => {
  const record = streamRecord({ ...stream, new_field: { a: 1 } }, { scanId: "s", fetchedAt: 0 });
  assert.deepEqual(JSON.parse(record.value!).new_field, { a: 1 });
});

Deno.test("a tombstone has a null value and says why the stream ended", () => {
  const record = tombstoneRecord("7", { scanId: "s", at: 1000, reason: "expired" });
  assert.deepEqual(record, {
    key: "7",
    value: null,
    timestamp: 1000,
    headers: { "scan-id": "s", "fetched-at": "1970-01-01T00:00:01.000Z", "end-reason": "expired" },
  });
});

Deno.test("a stream is expired only past 48 hours", () => {
  const started = Date.parse(stream.started_at);
  assert.equal(isExpired(started, started + MAX_BROADCAST_MS), false);
  assert.equal(isExpired(started, started + MAX_BROADCAST_MS + 1), true);
});

Deno.test("later scans remember only the user, the start time, what filters select by and the viewers EventSub ranks by", () => {
  assert.deepEqual(liveStream(stream), {
    userId: "101051819",
    startedAt: Date.parse("2021-03-10T03:18:11Z"),
    language: "en",
    gameId: "32982",
    userLogin: "afro",
    viewers: 1490,
  });
});
