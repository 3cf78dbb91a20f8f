import assert from "node:assert/strict";
import { causeChain } from "./errors.ts";

Deno.test("the chain follows cause and kafkajs's originalError, outermost first", () => {
  const root = Object.assign(new Error("refused"), { type: "NETWORK" });
  const middle = Object.assign(new Error("retry failed"), { originalError: root });
  const outer = new Error("send failed", { cause: middle });
  assert.deepEqual(causeChain(outer).map((e) => e.message), [
    "send failed",
    "retry failed",
    "refused",
  ]);
});

Deno.test("the chain stops after the limit, also on a cycle", () => {
  const a: { message: string; cause?: unknown } = { message: "a" };
  a.cause = a;
  assert.equal(causeChain(a).length, 5);
  assert.equal(causeChain(a, 2).length, 2);
  assert.deepEqual(causeChain(undefined), []);
});
