import assert from "node:assert/strict";
import { createCadence, onScanEnd, onTick } from "./schedule.ts";

const period = { periodMs: 60_000 };

Deno.test("a tick that finds a scan running is remembered, and the next scan starts when it ends", () => {
  const cadence = createCadence();
  assert.equal(onTick(cadence), "start");
  assert.equal(onTick(cadence), "remember");
  assert.deepEqual(onScanEnd(cadence, { ...period, projectedScanMs: 75_000 }), {
    startNext: true,
    notice: { kind: "overrun", cadenceMs: 75_000 },
  });
  assert.equal(cadence.running, true);
});

Deno.test("at most one tick is remembered", () => {
  const cadence = createCadence();
  onTick(cadence);
  assert.equal(onTick(cadence), "remember");
  assert.equal(onTick(cadence), "ignore");
  assert.equal(onScanEnd(cadence, { ...period, projectedScanMs: 200_000 }).startNext, true);
  assert.equal(onScanEnd(cadence, { ...period, projectedScanMs: 200_000 }).startNext, false);
  assert.equal(cadence.running, false);
});

Deno.test("running behind is announced once, and fitting again once", () => {
  const cadence = createCadence();
  onTick(cadence);
  const notices = [];
  for (let scan = 0; scan < 3; scan++) {
    onTick(cadence);
    notices.push(onScanEnd(cadence, { ...period, projectedScanMs: 80_000 }).notice);
  }
  // The fourth scan ends before the next tick.
  notices.push(onScanEnd(cadence, { ...period, projectedScanMs: 30_000 }).notice);
  assert.deepEqual(notices, [{ kind: "overrun", cadenceMs: 80_000 }, null, null, { kind: "fits" }]);
  assert.equal(onTick(cadence), "start");
});

Deno.test("a scan that ends in time starts nothing and says nothing", () => {
  const cadence = createCadence();
  onTick(cadence);
  assert.deepEqual(onScanEnd(cadence, { ...period, projectedScanMs: 10_000 }), {
    startNext: false,
    notice: null,
  });
  assert.equal(onTick(cadence), "start");
});

Deno.test("a remembered tick starts nothing once the service is stopping", () => {
  const cadence = createCadence();
  onTick(cadence);
  onTick(cadence);
  assert.deepEqual(
    onScanEnd(cadence, { ...period, projectedScanMs: 90_000, stopping: true }),
    { startNext: false, notice: null },
  );
});

Deno.test("ticks every minute with 75-second scans: scans run back to back and none is lost", () => {
  // Fake time in milliseconds: ticks at every whole minute, each scan 75 s.
  const cadence = createCadence();
  const starts: number[] = [];
  let endsAt = Infinity;
  for (let now = 0; now <= 600_000; now += 1_000) {
    if (now === endsAt) {
      endsAt = Infinity;
      if (onScanEnd(cadence, { ...period, projectedScanMs: 75_000 }).startNext) {
        starts.push(now);
        endsAt = now + 75_000;
      }
    }
    if (now % 60_000 === 0 && onTick(cadence) === "start") {
      starts.push(now);
      endsAt = now + 75_000;
    }
  }
  assert.deepEqual(starts, [
    0,
    75_000,
    150_000,
    225_000,
    300_000,
    375_000,
    450_000,
    525_000,
    600_000,
  ]);
});
