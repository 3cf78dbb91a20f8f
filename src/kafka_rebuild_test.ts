import assert from "node:assert/strict";
import { parseLive } from "./kafka_rebuild.ts";

Deno.test("the rebuild reads user, start time and what filters select by from a record's value", () => {
  const value = JSON.stringify({
    id: "1",
    user_id: "42",
    user_login: "some_login",
    game_id: "509658",
    title: 'a title with "user_id":"7" and "language":"xx" in it',
    started_at: "2026-01-01T00:00:00Z",
    language: "de",
  });
  assert.deepEqual(parseLive(value), {
    userId: "42",
    startedAt: Date.UTC(2026, 0, 1),
    language: "de",
    gameId: "509658",
    userLogin: "some_login",
  });
});

Deno.test("a value in another field order or spacing still parses", () => {
  const value =
    '{ "started_at" : "2026-01-01T00:00:00Z", "user_id" : "42", "language" : "en", "game_id" : "", "user_login" : "x" }';
  assert.deepEqual(parseLive(value), {
    userId: "42",
    startedAt: Date.UTC(2026, 0, 1),
    language: "en",
    gameId: "",
    userLogin: "x",
  });
});

Deno.test("a value that is not a stream object is skipped", () => {
  assert.equal(parseLive("not json"), null);
  assert.equal(parseLive('{"id":"1"}'), null);
});
