import assert from "node:assert/strict";
import { connect, connectWait } from "./connect.ts";
import { createLifecycle } from "./lifecycle.ts";
import { FakeClock } from "./_test_utils.ts";

/** An error as kafkajs throws it for a refused permission. */
function kafkaError(type: string): Error {
  return Object.assign(new Error(type), { type });
}

const fatalCode = (error: unknown) => (error as { type?: string }).type ?? null;
const describe = (error: unknown) => (error as Error).message;

Deno.test("connecting retries with growing waits until Kafka answers", async () => {
  const clock = new FakeClock();
  const lifecycle = createLifecycle();
  const attempts: number[] = [];
  const start = clock.now();
  const connecting = connect({
    open: () => {
      attempts.push(clock.now() - start);
      return attempts.length < 3
        ? Promise.reject(new Error("Connection refused"))
        : Promise.resolve("session");
    },
    fatalCode: () => null,
    describe,
    lifecycle,
    clock,
    random: () => 0,
  });
  await clock.advance(60_000);
  assert.equal(await connecting, "session");
  // 1000 ms + half the ceiling (500 ms, then 1000 ms) + a random share (0 here).
  assert.deepEqual(attempts, [0, 1500, 3500]);
  assert.equal(lifecycle.exitCode(), 0);
});

Deno.test("the wait grows to a fixed 16 s plus a random share of at most 15 s", () => {
  assert.equal(connectWait(1, () => 0), 1500);
  assert.equal(connectWait(10, () => 0), 16_000);
  assert.equal(connectWait(10, () => 0.999_999), 30_999);
});

Deno.test("a refused permission is fatal at once: no retry, exit code 1", async () => {
  const clock = new FakeClock();
  const lifecycle = createLifecycle();
  let attempts = 0;
  const connection = await connect({
    open: () => {
      attempts++;
      return Promise.reject(kafkaError("TOPIC_AUTHORIZATION_FAILED"));
    },
    fatalCode,
    describe,
    lifecycle,
    clock,
  });
  assert.equal(connection, null);
  assert.equal(attempts, 1);
  assert.equal(lifecycle.exitCode(), 1);
  assert.equal(lifecycle.fatal, "the Kafka producer cannot start: TOPIC_AUTHORIZATION_FAILED");
  assert.equal(clock.pending, 0);
});

Deno.test("a stop during an attempt returns at once, and what the attempt opens later is released", async () => {
  const clock = new FakeClock();
  const lifecycle = createLifecycle();
  let open = (_: string) => {};
  const released: string[] = [];
  const connecting = connect<string>({
    open: () => new Promise((resolve) => open = resolve),
    release: (c) => released.push(c),
    fatalCode,
    describe,
    lifecycle,
    clock,
  });
  lifecycle.requestStop();
  assert.equal(await connecting, null);
  open("leadership");
  await clock.advance(0);
  assert.deepEqual(released, ["leadership"]);
  assert.equal(lifecycle.exitCode(), 0);
});

Deno.test("a stop during the wait between attempts ends the loop without another attempt", async () => {
  const clock = new FakeClock();
  const lifecycle = createLifecycle();
  let attempts = 0;
  const connecting = connect({
    open: () => Promise.reject(new Error(`refused ${++attempts}`)),
    fatalCode,
    describe,
    lifecycle,
    clock,
    random: () => 0,
  });
  await clock.advance(1000);
  lifecycle.requestStop();
  assert.equal(await connecting, null);
  assert.equal(attempts, 1);
});
