import assert from "node:assert/strict";
import { runningTermFenced } from "./leadership.ts";

function term(lostLeadership: boolean) {
  return { session: { delivery: { lostLeadership } }, signal: new AbortController().signal };
}

Deno.test("a fenced delivery of the running term steps down", () => {
  assert.equal(runningTermFenced(term(true)), true);
});

Deno.test("a stale delivery's rejection does not end a running term that was not fenced", () => {
  assert.equal(runningTermFenced(term(false)), false);
});

Deno.test("with no running term there is nothing to step down from", () => {
  assert.equal(runningTermFenced(null), false);
});
