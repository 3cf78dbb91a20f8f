/**
 * A stop stays inside its grace period: SIGTERM while a send is stuck
 * against a broker that answers nothing (its JVM paused with SIGSTOP) ends
 * the process (HA=on) before a supervisor's stop timeout would kill it.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { NO_SCHEDULED_SCANS, startService } from "./support/service.ts";
import { SHUTDOWN_FLUSH_MS, SHUTDOWN_GRACE_MS } from "../src/service/lifecycle.ts";

/** The grace period of a stop: the running scan's, then the final flush's (30 s). */
const STOP_LIMIT_MS = SHUTDOWN_GRACE_MS + SHUTDOWN_FLUSH_MS;
/** How long past the stop's limit the process may take to exit. */
const SLACK_MS = 5_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Records in `topic` so far, from its end offsets. */
async function landed(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "test-offsets", brokers, logLevel: logLevel.NOTHING })
    .admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}

Deno.test("SIGTERM during a send stuck against a paused broker exits within the grace period plus 5 s (HA=on)", async () => {
  await using broker = await useTestBroker({ own: true });
  const topic = uniqueTopic("stuck");
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_SEED: "11",
    SIM_STREAMS: "20000",
    SIM_LATENCY_MS: "50",
    SCAN_MODE: "sequential",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    HA: "on",
    // A lease that outlives the stop keeps the delivery trying the paused broker again (a new
    // producer, a new transaction): the stuck send then outlasts the grace period, as it does
    // against a broker silent for long.
    KAFKA_SESSION_TIMEOUT_MS: "120000",
    SCHEDULE: NO_SCHEDULED_SCANS,
  });
  await service.waitForLog((l) =>
    String(l.message).startsWith("Leadership:") && l.role === "leader"
  );
  for (const deadline = Date.now() + 90_000; await landed(broker.brokers, topic) === 0;) {
    assert.ok(Date.now() < deadline, "no record landed within 90 s");
    await delay(200);
  }
  const pid = broker.local!.pid!;
  Deno.kill(pid, "SIGSTOP");
  try {
    // The scan's next sends now wait on a broker that answers nothing.
    await delay(2000);
    assert.equal(
      service.logs().some((l) => /^Scan (ok|failed|aborted)/.test(String(l.message))),
      false,
      "the scan ended before the broker was paused",
    );
    const started = performance.now();
    service.process.kill("SIGTERM");
    const limit = STOP_LIMIT_MS + SLACK_MS;
    const exited = await Promise.race([
      service.process.status,
      delay(limit + 30_000).then(() => null),
    ]);
    const tookMs = Math.round(performance.now() - started);
    console.log(`exited ${tookMs} ms after SIGTERM; its log from the signal on:`);
    const signalled = service.logs().findIndex((l) =>
      String(l.message).startsWith("Shutting down")
    );
    for (const l of service.logs().slice(signalled)) {
      console.log(`  ${l["@timestamp"]} ${l.level} ${l.message}`);
    }
    assert.notEqual(exited, null, `still running ${tookMs} ms after SIGTERM`);
    assert.ok(tookMs < limit, `exited ${tookMs} ms after SIGTERM, past ${limit} ms`);
    assert.equal(exited!.code, 0);
  } finally {
    Deno.kill(pid, "SIGCONT");
  }
  await service.waitForLog((l) => l.message === "Stopped", 5000);
});
