/**
 * A foreign member in the leader group (HA=on), against a real broker: a
 * plain kafkajs consumer holds `twitch-datagen.<topic>.leader` with a
 * protocol of its own, so every join of the service is refused with
 * INCONSISTENT_GROUP_PROTOCOL. The service keeps trying with a warning, is
 * not ready (saying why) while it is out of the group, stays healthy, and
 * leads and scans once the foreign member left.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel, PartitionAssigners } from "kafkajs";
import { createTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { startService } from "./support/service.ts";
import { freePort } from "../dev/ports.ts";
import { leaderGroupId } from "../src/kafka/leader.ts";
import { probeUntil as until } from "./support/wait.ts";

type Line = Record<string, unknown>;

const SESSION_TIMEOUT_MS = 6000;
const INCONSISTENT =
  "The group member's supported protocols are incompatible with those of existing members";

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: (await response.text()).trim() };
}

function isRefusedJoin(line: Line): boolean {
  return String(line.message).startsWith("Left the leader election group") &&
    line.error === INCONSISTENT;
}

function isLeading(line: Line): boolean {
  return String(line.message).startsWith("Leadership:") && line.role === "leader";
}

Deno.test("a foreign member in the leader group keeps the service out and not ready until it leaves", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("ha-foreign");
  const groupId = leaderGroupId(topic);
  const foreignTopic = uniqueTopic("foreign");
  await createTopic(broker.bootstrap, foreignTopic, { partitions: 1 });
  const foreign = new Kafka({
    clientId: "foreign",
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId, partitionAssigners: [PartitionAssigners.roundRobin] });
  const joined = Promise.withResolvers<void>();
  foreign.on(foreign.events.GROUP_JOIN, () => joined.resolve());
  await foreign.connect();
  let foreignConnected = true;
  try {
    await foreign.subscribe({ topics: [foreignTopic] });
    await foreign.run({ eachMessage: async () => {} });
    await joined.promise;

    const port = freePort();
    await using service = startService([], {
      SOURCE: "simulated",
      SIM_STREAMS: "200",
      SIM_SEED: "7",
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      SCHEDULE: "* * * * *",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
    });

    // Refused, and trying again: two warnings, and more while the foreign member stays.
    await service.waitForLog(isRefusedJoin, 90_000);
    await until(
      "a second refused join",
      60_000,
      () => Promise.resolve(service.logs().filter(isRefusedJoin).length >= 2 ? true : null),
    );
    const unready = await until("/readyz naming the group", 60_000, async () => {
      const answer = await get(port, "/readyz");
      return answer.body.includes(groupId) ? answer : null;
    });
    assert.equal(unready.status, 503);
    assert.match(
      unready.body,
      new RegExp(
        `^standby; not a member of the leader election group ${
          groupId.replaceAll(".", "\\.")
        } for \\d+ s \\(${INCONSISTENT.replace("'", "'")}\\)$`,
      ),
    );
    assert.deepEqual(await get(port, "/healthz"), { status: 200, body: "ok" });
    assert.equal(service.logs().filter(isLeading).length, 0);
    assert.equal(
      service.logs().filter((l) => String(l.message).startsWith("Scan ")).length,
      0,
      "no scan while out of the group",
    );

    await foreign.disconnect();
    foreignConnected = false;
    const left = Date.now();
    const leading = await service.waitForLog(isLeading, 60_000);
    const scanned = await service.waitForLog(
      (l) => String(l.message).startsWith("Scan ok"),
      60_000,
    );
    console.log(JSON.stringify({
      refusedJoins: service.logs().filter(isRefusedJoin).length,
      leadingAfterLeaveMs: Date.parse(String(leading["@timestamp"])) - left,
      scanOkAfterLeaveMs: Date.parse(String(scanned["@timestamp"])) - left,
    }));
    assert.equal(scanned.result, "ok");
    assert.deepEqual(await get(port, "/readyz"), { status: 200, body: "leader" });
    const result = await service.stop("SIGTERM");
    assert.equal(result.code, 0);
  } finally {
    if (foreignConnected) await foreign.disconnect().catch(() => {});
  }
});
