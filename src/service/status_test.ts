import assert from "node:assert/strict";
import { createStatus, serviceReadiness, setBrokerReachable } from "./status.ts";
import { testConfig } from "./_test_utils.ts";
import { createMetrics } from "../ops/metrics.ts";

const schedule = testConfig({ SCHEDULE: "* * * * *" }).schedule;
const NOW = Date.parse("2026-12-01T12:00:30Z");

Deno.test("before a successful scan the service is not ready; a standby is, while the broker answers", () => {
  const status = createStatus();
  setBrokerReachable(status, createMetrics(), true);
  assert.deepEqual(serviceReadiness(status, { schedule, now: NOW, role: null }), {
    ready: false,
    reason: "no successful scan yet",
  });
  assert.deepEqual(serviceReadiness(status, { schedule, now: NOW, role: "standby" }), {
    ready: true,
    reason: "standby",
  });
  assert.deepEqual(serviceReadiness(status, { schedule, now: NOW, role: "leader" }), {
    ready: false,
    reason: "leader; no successful scan yet",
  });
});

Deno.test("a broker that stops answering makes the service unready and kafka_up 0", async () => {
  const status = createStatus();
  const metrics = createMetrics();
  status.lastSuccessAt = NOW - 1000;
  setBrokerReachable(status, metrics, true);
  assert.deepEqual(serviceReadiness(status, { schedule, now: NOW, role: null }), {
    ready: true,
    reason: "ok",
  });
  setBrokerReachable(status, metrics, false);
  assert.equal((await metrics.kafkaUp.get()).values[0].value, 0);
  assert.deepEqual(serviceReadiness(status, { schedule, now: NOW, role: "standby" }), {
    ready: false,
    reason: "standby; Kafka broker unreachable",
  });
});
