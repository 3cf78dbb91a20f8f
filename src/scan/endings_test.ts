import assert from "node:assert/strict";
import { findMissing, nextState, resolveLookups } from "./endings.ts";
import { type HelixStream, MAX_BROADCAST_MS } from "../helix/stream.ts";
import type { LiveStream } from "./record.ts";

function live(userId: string, startedAt: number): LiveStream {
  return { userId, startedAt, language: "en", gameId: "509658", userLogin: `login_${userId}` };
}

const now = Date.UTC(2026, 5, 1);
const previous = new Map([
  ["1", live("u1", now - 1000)],
  ["2", live("u2", now - 1000)],
  ["3", live("u3", now - MAX_BROADCAST_MS - 1)],
  ["4", live("u4", now - 1000)],
]);

function stream(id: string, userId: string): HelixStream {
  return { id, user_id: userId, started_at: new Date(now).toISOString() } as HelixStream;
}

Deno.test("streams not seen are looked up, except those past 48 hours, which are expired", () => {
  const missing = findMissing(previous, new Set(["1"]), { now });
  assert.deepEqual(missing, {
    lookup: [{ id: "2", userId: "u2" }, { id: "4", userId: "u4" }],
    expired: ["3"],
  });
});

Deno.test("a looked-up stream still live is recovered, one not listed has ended", () => {
  const outcome = resolveLookups(
    [{ id: "2", userId: "u2" }, { id: "4", userId: "u4" }],
    [stream("2", "u2")],
    { seen: new Set(["1"]) },
  );
  assert.deepEqual(outcome.recovered.map((s) => s.id), ["2"]);
  assert.deepEqual(outcome.ended, ["4"]);
  assert.deepEqual(outcome.discovered, []);
});

Deno.test("a user live with a new stream ends the old one and the new one is discovered", () => {
  const outcome = resolveLookups([{ id: "4", userId: "u4" }], [stream("9", "u4")], {
    seen: new Set(),
  });
  assert.deepEqual(outcome.ended, ["4"]);
  assert.deepEqual(outcome.discovered.map((s) => s.id), ["9"]);
});

Deno.test("a new stream the scan already saw is not discovered twice", () => {
  const outcome = resolveLookups([{ id: "4", userId: "u4" }], [stream("9", "u4")], {
    seen: new Set(["9"]),
  });
  assert.deepEqual(outcome.discovered, []);
});

Deno.test("a complete scan replaces the state; ended streams leave", () => {
  const observed = new Map([["1", live("u1", 5)], ["7", live("u7", 6)]]);
  const state = nextState(previous, { observed, removed: ["3"], complete: true });
  assert.deepEqual([...state.keys()].sort(), ["1", "7"]);
  assert.deepEqual(state.get("1"), live("u1", 5));
});

Deno.test("an incomplete scan only adds to the state", () => {
  const observed = new Map([["7", live("u7", 6)]]);
  const state = nextState(previous, { observed, removed: ["3"], complete: false });
  assert.deepEqual([...state.keys()].sort(), ["1", "2", "4", "7"]);
});
