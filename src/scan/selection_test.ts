import assert from "node:assert/strict";
import { selects } from "./selection.ts";
import type { LiveStream } from "./record.ts";

const stream: LiveStream = {
  userId: "1",
  startedAt: 0,
  language: "de",
  gameId: "509658",
  userLogin: "Some_Login",
};
const all = { languages: [], gameIds: [], userLogins: [] };

Deno.test("no filter selects every stream", () => {
  assert.equal(selects(all, stream), true);
});

Deno.test("a language filter selects only its languages", () => {
  assert.equal(selects({ ...all, languages: ["en", "de"] }, stream), true);
  assert.equal(selects({ ...all, languages: ["en"] }, stream), false);
});

Deno.test("a game filter selects only its games", () => {
  assert.equal(selects({ ...all, gameIds: ["509658"] }, stream), true);
  assert.equal(selects({ ...all, gameIds: ["32982"] }, stream), false);
});

Deno.test("a login filter selects its channels whatever the case", () => {
  assert.equal(selects({ ...all, userLogins: ["some_login"] }, stream), true);
  assert.equal(selects({ ...all, userLogins: ["other"] }, stream), false);
});
