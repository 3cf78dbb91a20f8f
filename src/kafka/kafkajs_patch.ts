/**
 * A patch of kafkajs 2.2.4's request queue, applied once at start-up.
 *
 * When a broker connection has nothing pending, the queue still re-arms a
 * timer with a negative delay after every check (kafkajs issue 1751), which
 * Node's timers turn into 1 ms: a busy loop on every connection that costs
 * several percent of a core while the service idles, and prints
 * TimeoutNegativeWarning. The patch skips scheduling a check when nothing is
 * pending; a new request schedules its own check when it is queued.
 *
 * @module
 */

import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** The parts of kafkajs's RequestQueue the patch relies on. */
interface QueueShape {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for("twitch-datagen.kafkajs-idle-patch");

/** The fields and calls the original method must mention for the patch to be sound. */
const EXPECTED = ["throttledUntil", "throttleCheckTimeoutId", "pending.length", "setTimeout"];

/**
 * Stops the idle 1 ms timer loop of kafkajs's request queue. Idempotent.
 *
 * @throws {Error} when kafkajs's request queue no longer has the shape the patch
 * expects (a kafkajs upgrade): the patch must then be reviewed, not applied blindly.
 */
export function patchKafkajsIdleLoop(): void {
  const prototype = RequestQueue.prototype as QueueShape & { [PATCHED]?: boolean };
  if (prototype[PATCHED]) return;
  const original = prototype.scheduleCheckPendingRequests;
  const source = typeof original === "function" ? original.toString() : "";
  const missing = EXPECTED.filter((word) => !source.includes(word));
  if (missing.length > 0) {
    throw new Error(
      `kafkajs's RequestQueue.scheduleCheckPendingRequests changed shape (no ${
        missing.join(", ")
      }); review src/kafka/kafkajs_patch.ts against the installed kafkajs`,
    );
  }
  prototype.scheduleCheckPendingRequests = function (this: QueueShape) {
    // Nothing to send: no timer. push() calls this again when a request waits.
    if (this.pending.length === 0) return;
    original.call(this);
  };
  prototype[PATCHED] = true;
}

/** Whether {@link patchKafkajsIdleLoop} is in effect (for tests). */
export function _kafkajsIdleLoopPatched(): boolean {
  return (RequestQueue.prototype as { [PATCHED]?: boolean })[PATCHED] === true;
}

/** kafkajs's RequestQueue class, for tests of the patch. */
export const _RequestQueue: new (options: Record<string, unknown>) => QueueShape =
  RequestQueue as never;
