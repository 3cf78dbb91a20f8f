import assert from "node:assert/strict";
import { _kafkajsIdleLoopPatched, _RequestQueue, patchKafkajsIdleLoop } from "./kafkajs_patch.ts";

const logger = { debug() {}, info() {}, warn() {}, error() {} };

function newQueue() {
  return new _RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:1",
    logger,
  }) as InstanceType<typeof _RequestQueue> & { destroy(): void };
}

Deno.test("kafkajs's request queue has the shape the idle patch relies on", () => {
  const queue = newQueue();
  assert.deepEqual(queue.pending, []);
  assert.equal(queue.throttledUntil, -1);
  assert.equal(queue.throttleCheckTimeoutId, null);
  assert.equal(typeof queue.scheduleCheckPendingRequests, "function");
});

Deno.test("an idle request queue arms a timer without the patch", () => {
  if (_kafkajsIdleLoopPatched()) return; // another test in this process patched it first
  const queue = newQueue();
  queue.scheduleCheckPendingRequests();
  assert.notEqual(queue.throttleCheckTimeoutId, null, "the unpatched queue re-arms when idle");
  queue.destroy();
});

Deno.test("the patched queue arms no timer while nothing is pending", () => {
  patchKafkajsIdleLoop();
  patchKafkajsIdleLoop(); // idempotent
  assert.equal(_kafkajsIdleLoopPatched(), true);
  const queue = newQueue();
  queue.scheduleCheckPendingRequests();
  assert.equal(queue.throttleCheckTimeoutId, null);
  queue.destroy();
});

Deno.test("the patched queue still schedules a check for a throttled pending request", () => {
  patchKafkajsIdleLoop();
  const queue = newQueue();
  queue.pending.push({});
  queue.throttledUntil = Date.now() + 60_000;
  queue.scheduleCheckPendingRequests();
  assert.notEqual(queue.throttleCheckTimeoutId, null);
  queue.destroy();
});
