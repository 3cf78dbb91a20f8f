/**
 * Helix on a bad day, through the whole service: rate limits, 5xx answers,
 * and a scan that fails while the schedule goes on.
 */

import assert from "node:assert/strict";
import { readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, runService, startService } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";

Deno.test("a scan larger than the rate-limit budget waits for points as they refill, not for a full bucket, and says what it paid", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("ratelimit");
  const result = await runService(["--once"], {
    SOURCE: "simulated",
    SIM_STREAMS: "2500",
    SIM_RATE_LIMIT: "20",
    SCAN_MODE: "sequential",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
  });
  assert.equal(result.code, 0, result.stderr);
  const summary = logLines(result.stderr).find((l) => /^Scan ok/.test(String(l.message)))!;
  // 25 pages; the bucket holds 20, and one point refills every 3 s.
  assert.equal(summary.points, 25);
  assert.equal(summary.rateBoundMs, 75_000);
  assert.match(
    String(summary.message),
    /25 rate-limit points \(at least 75000 ms at the rate limit\)/,
  );
  // Five points past the bucket: about 15 s; a wait for the full bucket alone would be a minute.
  const durationMs = Number(summary.durationMs);
  assert.ok(durationMs >= 14_000 && durationMs < 45_000, `${durationMs} ms`);
  const records = await readTopic(broker.brokers, topic);
  assert.equal(new Set(records.map((r) => r.key)).size, 2500);
  assert.equal(records.length, 2500);
});

Deno.test("5xx answers on a fifth of the requests still give every stream exactly once", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("faults");
  const result = await runService(["--once"], {
    SOURCE: "simulated",
    SIM_STREAMS: "3000",
    SIM_FAULT_RATE: "0.2",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
  });
  assert.equal(result.code, 0, result.stderr);
  const records = await readTopic(broker.brokers, topic);
  assert.equal(records.length, 3000);
  assert.equal(new Set(records.map((r) => r.key)).size, 3000);
});

Deno.test("a failed scan is logged and counted, and the next scheduled scan runs normally", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("recover");
  const failing = await startSimulator({ streams: 800, failAfter: 2 });
  const port = failing.port;
  const env = {
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    TWURPLE_MOCK_API_PORT: String(port),
    TWITCH_CLIENT_ID: failing.clientId,
    TWITCH_CLIENT_SECRET: failing.clientSecret,
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    SCAN_MODE: "sequential",
    HELIX_TIMEOUT_MS: "2000",
  };
  await using service = startService([], env);
  const failed = await service.waitForLog(
    (l) => String(l.message).startsWith("Scan failed"),
    90_000,
  );
  assert.match(String(failed.error), /Helix answered 503/);
  await failing.close();
  await using healthy = await startSimulator({ streams: 800, port });
  const ok = await service.waitForLog((l) => String(l.message).startsWith("Scan ok"), 90_000);
  assert.equal(ok.distinct, 800);
  const result = await service.stop();
  assert.equal(result.code, 0);
  const records = await readTopic(broker.brokers, topic);
  assert.equal(new Set(records.filter((r) => r.value !== null).map((r) => r.key)).size, 800);
  assert.equal(records.filter((r) => r.value === null).length, 0, "a failed scan never tombstones");
  assert.ok(healthy.stats.requests > 0);
});
