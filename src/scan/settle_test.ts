import assert from "node:assert/strict";
import { byUser } from "./settle.ts";

Deno.test("look-up batches hold at most the given number of users, each user in one batch", () => {
  const missing = [
    { id: "1", userId: "a" },
    { id: "2", userId: "b" },
    { id: "3", userId: "c" },
    { id: "4", userId: "a" },
    { id: "5", userId: "d" },
  ];
  assert.deepEqual(byUser(missing, 2), [
    [{ id: "1", userId: "a" }, { id: "4", userId: "a" }, { id: "2", userId: "b" }],
    [{ id: "3", userId: "c" }, { id: "5", userId: "d" }],
  ]);
});

Deno.test("no missing streams make no look-up", () => {
  assert.deepEqual(byUser([], 100), []);
});
