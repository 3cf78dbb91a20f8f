import assert from "node:assert/strict";
import { createScheduler, type ScanTarget } from "./scheduler.ts";
import type { CadenceNotice } from "../ops/schedule.ts";

/** A scheduler whose scans end when the test says; it records what ran. */
function harness(options: { active?: () => ScanTarget<string> | null } = {}) {
  const ends: (() => void)[] = [];
  const started: string[] = [];
  const notices: CadenceNotice[] = [];
  let stopping = false;
  const scheduler = createScheduler<string>({
    active: options.active ?? (() => ({ session: "session" })),
    scan: (target) => {
      started.push(target.session);
      return new Promise<void>((resolve) => ends.push(resolve));
    },
    stopping: () => stopping,
    periodMs: () => 60_000,
    projectedScanMs: () => 90_000,
    notice: (notice) => notices.push(notice),
  });
  /** Ends the oldest running scan and lets its end run. */
  async function endScan() {
    ends.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { scheduler, started, notices, endScan, stop: () => stopping = true };
}

Deno.test("a tick starts a scan when none runs", () => {
  const { scheduler, started } = harness();
  scheduler.tick();
  assert.deepEqual(started, ["session"]);
  assert.notEqual(scheduler.running(), null);
});

Deno.test("ticks during a scan are remembered once, and the next scan starts as it ends", async () => {
  const { scheduler, started, notices, endScan } = harness();
  scheduler.tick();
  scheduler.tick();
  scheduler.tick();
  assert.equal(started.length, 1);
  await endScan();
  assert.equal(started.length, 2);
  assert.deepEqual(notices, [{ kind: "overrun", cadenceMs: 90_000 }]);
  await endScan();
  assert.equal(started.length, 2);
  assert.equal(scheduler.running(), null);
  assert.deepEqual(notices, [{ kind: "overrun", cadenceMs: 90_000 }, { kind: "fits" }]);
});

Deno.test("a standby, or a leader still rebuilding, scans nothing and remembers no tick", async () => {
  let active: ScanTarget<string> | null = null;
  const { scheduler, started, endScan } = harness({ active: () => active });
  scheduler.tick();
  assert.deepEqual(started, []);
  active = { session: "term 1" };
  scheduler.tick();
  scheduler.tick(); // remembered
  active = null; // the term ended while its scan ran
  await endScan();
  assert.deepEqual(started, ["term 1"]);
  assert.equal(scheduler.running(), null);
  active = { session: "term 2" };
  scheduler.tick();
  assert.deepEqual(started, ["term 1", "term 2"]);
});

Deno.test("once stopping, no tick starts a scan, and a remembered one is dropped", async () => {
  const { scheduler, started, endScan, stop } = harness();
  scheduler.tick();
  scheduler.tick();
  stop();
  await endScan();
  scheduler.tick();
  assert.equal(started.length, 1);
  assert.equal(scheduler.running(), null);
});

Deno.test("idle resolves once the running scan ended, and at once when none runs", async () => {
  const { scheduler, endScan } = harness();
  await scheduler.idle();
  scheduler.tick();
  let idle = false;
  const waiting = scheduler.idle().then(() => idle = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(idle, false);
  await endScan();
  await waiting;
  assert.equal(idle, true);
});

Deno.test("a scan that throws is logged as a crash and the scheduler goes on", async () => {
  let calls = 0;
  const scheduler = createScheduler<string>({
    active: () => ({ session: "s" }),
    scan: () => ++calls === 1 ? Promise.reject(new Error("bug")) : Promise.resolve(),
    stopping: () => false,
    periodMs: () => 60_000,
    projectedScanMs: () => 0,
    notice: () => {},
  });
  scheduler.tick();
  await scheduler.idle();
  scheduler.tick();
  await scheduler.idle();
  assert.equal(calls, 2);
});
