import assert from "node:assert/strict";
import { readiness, schedulePeriod } from "./readiness.ts";
import { parseCron } from "../config/cron.ts";

const everyMinute = parseCron("* * * * *");
const t = Date.UTC(2026, 0, 1, 12, 0, 10);

Deno.test("the period of a schedule is the gap between its next two runs", () => {
  assert.equal(schedulePeriod(everyMinute, t), 60_000);
  assert.equal(schedulePeriod(parseCron("*/5 * * * *"), t), 300_000);
});

Deno.test("ready while the broker answers and a scan succeeded within two periods", () => {
  const input = { brokerReachable: true, lastSuccessAt: t, schedule: everyMinute };
  assert.deepEqual(readiness({ ...input, now: t + 120_000 }), { ready: true, reason: "ok" });
  assert.deepEqual(readiness({ ...input, now: t + 120_001 }), {
    ready: false,
    reason: "no successful scan within 120 s",
  });
});

Deno.test("scans longer than the schedule allow twice the last scan's duration plus a minute", () => {
  // 75-second scans back to back on a one-minute schedule: ready for 210 s after a success.
  const input = {
    brokerReachable: true,
    lastSuccessAt: t,
    lastScanMs: 75_000,
    schedule: everyMinute,
  };
  assert.deepEqual(readiness({ ...input, now: t + 210_000 }), { ready: true, reason: "ok" });
  assert.deepEqual(readiness({ ...input, now: t + 210_001 }), {
    ready: false,
    reason: "no successful scan within 210 s",
  });
  // Short scans: two periods, as before.
  assert.equal(readiness({ ...input, lastScanMs: 20_000, now: t + 120_000 }).ready, true);
  assert.equal(readiness({ ...input, lastScanMs: 20_000, now: t + 120_001 }).ready, false);
});

Deno.test("not ready before the first successful scan, or while the broker is unreachable", () => {
  assert.deepEqual(
    readiness({ brokerReachable: true, lastSuccessAt: null, schedule: everyMinute, now: t }),
    {
      ready: false,
      reason: "no successful scan yet",
    },
  );
  assert.deepEqual(
    readiness({ brokerReachable: false, lastSuccessAt: t, schedule: everyMinute, now: t }),
    {
      ready: false,
      reason: "Kafka broker unreachable",
    },
  );
});
