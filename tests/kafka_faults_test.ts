/**
 * The service against a broker that is down, crashes or never existed: a
 * real broker of the test's own (so it can be stopped and killed), the
 * service as a process, and kcat as the independent reader.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { NO_SCHEDULED_SCANS, runService, startService } from "./support/service.ts";
import { freePort } from "../dev/ports.ts";

type LogLine = Record<string, unknown>;

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Records in `topic` so far, from its offsets (kcat would read on until the producer pauses). */
async function landed(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "test-offsets", brokers, logLevel: logLevel.NOTHING })
    .admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

function startsWith(prefix: string): (line: LogLine) => boolean {
  return (line) => String(line.message).startsWith(prefix);
}

function time(line: LogLine): number {
  return Date.parse(String(line["@timestamp"]));
}

const isRetry = startsWith("Kafka not usable yet");
const isScanOk = startsWith("Scan ok");
/** Any scan's summary line, so that a failed scan fails the test at once. */
const isScanEnd = startsWith("Scan ");

Deno.test("with the broker down at start-up the service stays up, retries with growing waits, and scans once the broker is back", async () => {
  await using broker = await useTestBroker({ own: true });
  await broker.local!.stop();
  const port = freePort();
  const topic = uniqueTopic("late-broker");
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: "400",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    // The single writer's readiness and delivery; HA=on is tests/ha_test.ts.
    HA: "off",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    SCHEDULE: NO_SCHEDULED_SCANS,
    // kafkajs's own connection attempts are logged at debug.
    LOG_LEVEL: "debug",
  });

  const first = await service.waitForLog(isRetry, 60_000);
  assert.deepEqual(await get(port, "/readyz"), {
    status: 503,
    body: "Kafka broker unreachable\n",
  });
  assert.deepEqual(await get(port, "/healthz"), { status: 200, body: "ok\n" });
  assert.equal(
    first.error,
    `cannot reach KAFKA_BROKERS=${broker.bootstrap} (Connection error: connect ECONNREFUSED ${broker.bootstrap}); check that the brokers run and are reachable`,
  );

  // Three failed attempts show the waits; the first ten seconds show it does not spin.
  await service.waitForLog(() => service.logs().filter(isRetry).length >= 3, 60_000);
  const retries = service.logs().filter(isRetry);
  const inTenSeconds = service.logs().filter((line) =>
    time(line) >= time(first) && time(line) < time(first) + 10_000
  );
  const attempts = inTenSeconds.filter(isRetry).length;
  const connections = inTenSeconds.filter(startsWith("kafkajs: Connection error")).length;
  console.log(
    `broker down: ${attempts} service attempts and ${connections} connection attempts in 10 s; waits ${
      retries.map((r) => r.waitMs).join(", ")
    } ms`,
  );
  assert.ok(attempts >= 1 && attempts <= 2, `${attempts} attempts in 10 s`);
  assert.ok(connections >= 1 && connections <= 12, `${connections} connection attempts in 10 s`);
  const waits = retries.slice(0, 3).map((r) => Number(r.waitMs));
  assert.ok(waits[0] < waits[1] && waits[1] < waits[2], `waits ${waits.join(", ")} ms`);
  assert.equal(service.logs().some(isScanOk), false);

  await broker.local!.start();
  const scan = await service.waitForLog(isScanEnd, 60_000);
  assert.match(String(scan.message), /^Scan ok/);
  assert.equal(scan.records, 400);
  assert.deepEqual(await get(port, "/readyz"), { status: 200, body: "ok\n" });
  assert.equal((await readTopic(broker.brokers, topic)).length, 400);

  const result = await service.stop("SIGTERM");
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("a broker killed in the middle of a scan and started again loses no stream, and the scan ends ok", async () => {
  await using broker = await useTestBroker({ own: true });
  const topic = uniqueTopic("crash");
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_SEED: "7",
    SIM_STREAMS: "20000",
    SIM_LATENCY_MS: "50",
    SCAN_MODE: "sequential",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    // The plain delivery's recovery (new sessions, resends); HA=on writes in transactions.
    HA: "off",
    SCHEDULE: NO_SCHEDULED_SCANS,
  });
  await service.waitForLog(startsWith("Rebuilt the live set"));
  let before = 0;
  for (const deadline = Date.now() + 60_000; before < 2000;) {
    assert.ok(Date.now() < deadline, `only ${before} records landed within 60 s`);
    await delay(100);
    before = await landed(broker.brokers, topic);
  }
  await broker.local!.kill();
  assert.equal(service.logs().some(isScanOk), false, "the scan ended before the kill");
  // Longer than kafkajs's own reconnect attempts (about ten seconds).
  await delay(10_000);
  await broker.local!.start();

  const scan = await service.waitForLog(isScanEnd, 90_000);
  assert.match(String(scan.message), /^Scan ok/);
  assert.equal(scan.records, 20000);
  const records = await readTopic(broker.brokers, topic);
  const latest = new Map(records.map((r) => [r.key, r]));
  const resends = service.logs().filter(startsWith("Kafka unreachable while producing")).length;
  console.log(
    `broker killed after ${before} records: ${records.length} records in the topic, ${latest.size} keys, ${
      records.length - latest.size
    } duplicates; ${resends} batch sends repeated`,
  );
  assert.equal(latest.size, 20000);
  const stale = [...latest.values()].filter((r) =>
    r.value === null || r.headers["scan-id"] !== scan.scanId
  );
  assert.deepEqual(stale, []);

  const result = await service.stop("SIGTERM");
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("--once against a broker address where nothing listens exits 1 with one line naming KAFKA_BROKERS", async () => {
  const address = `127.0.0.1:${freePort()}`;
  const started = performance.now();
  const result = await runService(["--once"], {
    SOURCE: "simulated",
    SIM_STREAMS: "100",
    KAFKA_BROKERS: address,
    LOG_FORMAT: "json",
  });
  const tookMs = Math.round(performance.now() - started);
  console.log(`--once gave up on ${address} after ${tookMs} ms`);
  assert.equal(result.code, 1, result.stderr);
  assert.ok(tookMs < 60_000, `took ${tookMs} ms`);
  const lines: LogLine[] = result.stderr.trim().split("\n").map((line) => JSON.parse(line));
  const naming = lines.filter((line) => String(line.message).includes("KAFKA_BROKERS"));
  assert.equal(naming.length, 1, result.stderr);
  assert.equal(naming[0].level, "ERROR");
  assert.equal(
    naming[0].error,
    `cannot reach KAFKA_BROKERS=${address} (Connection error: connect ECONNREFUSED ${address}); check that the brokers run and are reachable`,
  );
  assert.deepEqual(lines.filter((line) => line.level !== "INFO"), naming);
  assert.equal(result.stdout, "");
});

Deno.test("SIGTERM while the service waits for an unreachable broker stops it at once with exit 0", async () => {
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: "100",
    KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
  });
  await service.waitForLog(startsWith("Producing to"));
  // Inside the first connection attempt, which kafkajs keeps retrying for about ten seconds.
  await delay(1000);
  const started = performance.now();
  const result = await service.stop("SIGTERM");
  const tookMs = Math.round(performance.now() - started);
  console.log(`stopped ${tookMs} ms after SIGTERM`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(service.logs().filter(isRetry).length, 0, result.stderr);
  assert.ok(service.logs().some((line) => line.message === "Stopped"), result.stderr);
  assert.ok(tookMs < 3000, `took ${tookMs} ms`);
});
