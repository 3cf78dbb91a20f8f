import assert from "node:assert/strict";
import {
  createLifecycle,
  createShutdown,
  listenForSignals,
  SHUTDOWN_CLOSE_MS,
  SHUTDOWN_FLUSH_MS,
  SHUTDOWN_GRACE_MS,
  type SignalTarget,
} from "./lifecycle.ts";
import { FakeClock } from "./_test_utils.ts";

/** Signal listeners kept in a map, fired by the test. */
function fakeSignals() {
  const listeners = new Map<string, Set<() => void>>();
  const target: SignalTarget = {
    addSignalListener: (signal, handler) => {
      listeners.set(signal, (listeners.get(signal) ?? new Set()).add(handler));
    },
    removeSignalListener: (signal, handler) => void listeners.get(signal)?.delete(handler),
  };
  const fire = (signal: string) => [...listeners.get(signal) ?? []].forEach((h) => h());
  const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  return { target, fire, count };
}

Deno.test("SIGTERM stops the service with exit code 0, and the listeners go once it stopped", () => {
  const signals = fakeSignals();
  const lifecycle = createLifecycle();
  const unlisten = listenForSignals(lifecycle, signals.target);
  assert.equal(signals.count(), 2);
  signals.fire("SIGTERM");
  assert.equal(lifecycle.signal.aborted, true);
  assert.deepEqual(lifecycle.health(), { ok: true, reason: "ok" });
  assert.equal(lifecycle.exitCode(), 0);
  unlisten();
  assert.equal(signals.count(), 0);
});

Deno.test("SIGINT stops the service as SIGTERM does", () => {
  const signals = fakeSignals();
  const lifecycle = createLifecycle();
  listenForSignals(lifecycle, signals.target);
  signals.fire("SIGINT");
  assert.equal(lifecycle.signal.aborted, true);
});

Deno.test("a fatal failure fails /healthz with the first reason and exits 1", () => {
  const lifecycle = createLifecycle();
  lifecycle.fail("the Kafka producer cannot go on: A");
  lifecycle.fail("the Kafka producer cannot go on: B");
  assert.equal(lifecycle.signal.aborted, false);
  lifecycle.halt();
  assert.equal(lifecycle.signal.aborted, true);
  assert.deepEqual(lifecycle.health(), { ok: false, reason: "the Kafka producer cannot go on: A" });
  assert.equal(lifecycle.exitCode(), 1);
});

Deno.test("a scan that ends within the grace period is not aborted, and the producer closes after it", async () => {
  const clock = new FakeClock();
  const steps: string[] = [];
  let finish = () => {};
  const running = new Promise<void>((resolve) => finish = resolve).then(() => {
    steps.push("scan ended");
  });
  const stop = createShutdown(clock).run({
    running: () => running,
    abortScan: () => steps.push("scan aborted"),
    close: () => Promise.resolve(void steps.push("closed")),
  });
  await clock.advance(SHUTDOWN_GRACE_MS - 1);
  assert.deepEqual(steps, []);
  finish();
  await stop;
  await clock.advance(SHUTDOWN_GRACE_MS);
  assert.deepEqual(steps, ["scan ended", "closed"]);
  assert.equal(clock.pending, 0);
});

Deno.test("past the grace period the scan stops fetching; past the flush's limit it is abandoned", async () => {
  const clock = new FakeClock();
  const steps: string[] = [];
  let done = false;
  const stop = createShutdown(clock).run({
    running: () => new Promise(() => {}),
    abortScan: () => steps.push(`scan aborted at ${clock.now() - start}`),
    close: () => Promise.resolve(void steps.push(`closed at ${clock.now() - start}`)),
  }).then(() => done = true);
  const start = clock.now();
  await clock.advance(SHUTDOWN_GRACE_MS);
  assert.deepEqual(steps, [`scan aborted at ${SHUTDOWN_GRACE_MS}`]);
  assert.equal(done, false);
  await clock.advance(SHUTDOWN_FLUSH_MS);
  await stop;
  assert.deepEqual(steps, [
    `scan aborted at ${SHUTDOWN_GRACE_MS}`,
    `closed at ${SHUTDOWN_GRACE_MS + SHUTDOWN_FLUSH_MS}`,
  ]);
});

Deno.test("a stop with no scan running closes at once", async () => {
  const clock = new FakeClock();
  let closed = false;
  await createShutdown(clock).run({
    running: () => null,
    abortScan: () => assert.fail("no scan to abort"),
    close: () => Promise.resolve(void (closed = true)),
  });
  assert.equal(closed, true);
  assert.equal(clock.pending, 0);
});

/** A leadership whose stop ends the term as the service's terms do: waiting for the scan. */
function fakeLeadership(endTerm: () => Promise<void>) {
  const steps: string[] = [];
  return {
    steps,
    async stop() {
      await endTerm();
      steps.push("session closed");
      steps.push("left the group");
    },
  };
}

Deno.test("HA=on: a stop while a send is stuck ends within the grace period, the flush's and the close's limits", async () => {
  const clock = new FakeClock();
  const stuck = new Promise<void>(() => {});
  // Ending the term waits for the running scan (as the scheduler's idle() does).
  const leadership = fakeLeadership(() => stuck);
  let done = false;
  const stop = createShutdown(clock).run({
    running: () => stuck,
    abortScan: () => {},
    close: () => leadership.stop(),
  }).then(() => done = true);
  await clock.advance(SHUTDOWN_GRACE_MS + SHUTDOWN_FLUSH_MS);
  assert.equal(done, false);
  await clock.advance(SHUTDOWN_CLOSE_MS);
  assert.equal(done, true);
  await stop;
});

Deno.test("HA=on: in a stop, ending the term waits for the scan no longer than the stop did, so the group is left", async () => {
  const clock = new FakeClock();
  const stuck = new Promise<void>(() => {});
  const shutdown = createShutdown(clock);
  const leadership = fakeLeadership(() => shutdown.bounded(stuck));
  const stop = shutdown.run({
    running: () => stuck,
    abortScan: () => {},
    close: () => leadership.stop(),
  });
  await clock.advance(SHUTDOWN_GRACE_MS + SHUTDOWN_FLUSH_MS);
  await stop;
  assert.deepEqual(leadership.steps, ["session closed", "left the group"]);
});

Deno.test("outside a stop, ending a term waits for its scan to stop, however long", async () => {
  const clock = new FakeClock();
  const shutdown = createShutdown(clock);
  let finish = () => {};
  let ended = false;
  const ending = shutdown.bounded(new Promise((resolve) => finish = resolve)).then(() =>
    ended = true
  );
  await clock.advance(10 * (SHUTDOWN_GRACE_MS + SHUTDOWN_FLUSH_MS + SHUTDOWN_CLOSE_MS));
  assert.equal(ended, false);
  finish();
  await ending;
  assert.equal(ended, true);
});

Deno.test("a close that fails after the stop gave up on it does not crash the process", async () => {
  const clock = new FakeClock();
  let fail = (_: Error) => {};
  await Promise.all([
    createShutdown(clock).run({
      running: () => null,
      abortScan: () => {},
      close: () => new Promise((_, reject) => fail = reject),
    }),
    clock.advance(SHUTDOWN_CLOSE_MS),
  ]);
  fail(new Error("the broker went away"));
  await clock.advance(0);
});
