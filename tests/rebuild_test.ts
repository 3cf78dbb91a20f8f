/**
 * The start-up rebuild against a real broker: it ends with the exact live
 * set when transaction markers end the partitions, and when an ACL denies it
 * the service says which ACL to add and exits instead of hanging.
 */

import assert from "node:assert/strict";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  type Message,
  ResourcePatternTypes,
} from "kafkajs";
import { createTopic, readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, NO_SCHEDULED_SCANS, runOnceWithin, startService } from "./support/service.ts";
import { readLiveState } from "../src/kafka/rebuild.ts";
import { authorizerProperties } from "../dev/kafka/broker_config.ts";

const STARTED = Date.UTC(2026, 0, 1);

function record(id: string, userId: string, partition: number, title = ""): Message {
  const value = JSON.stringify({
    id,
    user_id: userId,
    title,
    started_at: "2026-01-01T00:00:00Z",
  });
  return { key: id, value, partition };
}

function tombstone(id: string, partition: number): Message {
  return { key: id, value: null, partition };
}

function live(...pairs: [string, string][]) {
  return new Map(
    pairs.map((
      [id, userId],
    ) => [id, { userId, startedAt: STARTED, language: "", gameId: "", userLogin: "" }]),
  );
}

/**
 * The two ways a partition can end in markers that kafkajs never hands to
 * eachBatch: a marker fetched on its own, after a record batch too big to
 * share a fetch with it (the rebuild fetches up to 1 MB per partition), and
 * a partition that holds nothing but an aborted transaction.
 */
const TRANSACTIONS = {
  commit: {
    // Partition 0: "1", then a committed transaction of a 1.5 MB record "3" and a tombstone of "1".
    messages: [record("3", "33", 0, "x".repeat(1_500_000)), tombstone("1", 0)],
    end: "commit",
    // Each partition's end once the marker is written: records, then the marker.
    ends: ["4", "1", "0"],
    expected: live(["2", "22"], ["3", "33"]),
  },
  abort: {
    // Partition 1: "2", then an aborted tombstone of "2"; partition 2: only an aborted "4".
    messages: [tombstone("2", 1), record("4", "44", 2)],
    end: "abort",
    ends: ["1", "3", "2"],
    expected: live(["1", "11"], ["2", "22"]),
  },
} as const;

/**
 * Waits until every partition ends at `ends`: the coordinator writes the markers
 * after commit or abort returns, and until then the transaction's records are
 * past the end a read-committed reader sees.
 */
async function markersWritten(kafka: Kafka, topic: string, ends: readonly string[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 0;; attempt++) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const highs = offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high);
      if (JSON.stringify(highs) === JSON.stringify(ends)) return;
      if (attempt === 100) assert.fail(`partition ends ${highs}, expected ${ends}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

Deno.test("the rebuild ends with the exact live set when transaction markers end the partitions", async (t) => {
  await using broker = await useTestBroker();
  const kafka = new Kafka({
    clientId: "rebuild-test",
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  });
  const plain = kafka.producer();
  await plain.connect();
  try {
    for (const [name, tx] of Object.entries(TRANSACTIONS)) {
      await t.step(`the last transaction ends with ${name}`, async () => {
        const topic = uniqueTopic("rebuild-tx");
        await createTopic(broker.bootstrap, topic, {
          partitions: 3,
          config: { "max.message.bytes": "4000000" },
        });
        await plain.send({ topic, messages: [record("1", "11", 0), record("2", "22", 1)] });
        const transactional = kafka.producer({
          transactionalId: `test-${topic}`,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await transactional.connect();
        try {
          const transaction = await transactional.transaction();
          await transaction.send({ topic, messages: [...tx.messages] });
          await (tx.end === "commit" ? transaction.commit() : transaction.abort());
        } finally {
          await transactional.disconnect();
        }
        await markersWritten(kafka, topic, tx.ends);
        const started = performance.now();
        const state = await readLiveState(kafka, topic, { timeoutMs: 30_000 });
        console.log(
          `rebuild after a transaction ended with ${name}: ${
            Math.round(performance.now() - started)
          } ms`,
        );
        assert.deepEqual(new Map(state), tx.expected);
      });
    }
  } finally {
    await plain.disconnect();
  }
});

Deno.test("the rebuild tells which broadcasts an event ended (end-reason offline), with their times", async () => {
  await using broker = await useTestBroker();
  const kafka = new Kafka({
    clientId: "rebuild-test",
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = uniqueTopic("rebuild-ended");
  await createTopic(broker.bootstrap, topic, { partitions: 3 });
  const producer = kafka.producer();
  await producer.connect();
  const ended = (id: string, reason: string, at: number): Message => ({
    key: id,
    value: null,
    timestamp: String(at),
    headers: { "end-reason": reason, "scan-id": reason === "offline" ? "eventsub" : "s1" },
  });
  try {
    await producer.send({
      topic,
      messages: [
        record("1", "11", 0),
        record("2", "22", 1),
        record("3", "33", 2),
        { ...ended("1", "offline", 1_000), partition: 0 },
        { ...ended("2", "ended", 2_000), partition: 1 },
        { ...ended("3", "offline", 3_000), partition: 2 },
        record("4", "44", 0),
      ],
    });
  } finally {
    await producer.disconnect();
  }
  const told = new Map<string, number>();
  const state = await readLiveState(kafka, topic, {
    timeoutMs: 30_000,
    onEnded: (id, at) => told.set(id, at),
  });
  assert.deepEqual([...state.keys()], ["4"]);
  assert.deepEqual([...told].sort(), [["1", 1_000], ["3", 3_000]]);
});

const USER = "datagen";
const PASSWORD = "zz-acl-pass-7731";
const STREAMS = 200;

function allow(
  resourceType: AclResourceTypes,
  resourceName: string,
  resourcePatternType: ResourcePatternTypes,
  operations: AclOperationTypes[],
) {
  return operations.map((operation) => ({
    resourceType,
    resourceName,
    resourcePatternType,
    principal: `User:${USER}`,
    host: "*",
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

Deno.test("with ACLs, a service denied its rebuild group exits 1 naming the ACL to add, and runs once it is added", async (t) => {
  await using broker = await useTestBroker({
    own: true,
    sasl: { users: [{ username: USER, password: PASSWORD }] },
  });
  const local = broker.local!;
  // The broker starts without ACL checks; turn them on and start it again.
  await local.stop();
  await Deno.writeTextFile(`${local.dir}/server.properties`, authorizerProperties([]), {
    append: true,
  });
  await local.start();
  const admin = new Kafka({
    clientId: "acl-admin",
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topic = uniqueTopic("acl");
    // What the README lists for the topic; no group ACL yet.
    await admin.createAcls({
      acl: allow(AclResourceTypes.TOPIC, topic, ResourcePatternTypes.LITERAL, [
        AclOperationTypes.DESCRIBE,
        AclOperationTypes.READ,
        AclOperationTypes.WRITE,
        AclOperationTypes.CREATE,
        AclOperationTypes.DESCRIBE_CONFIGS,
      ]),
    });
    const env = {
      SOURCE: "simulated",
      SIM_STREAMS: String(STREAMS),
      SIM_SEED: "5",
      KAFKA_BROKERS: local.saslBootstrap!,
      KAFKA_TOPIC: topic,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD: PASSWORD,
      SCHEDULE: NO_SCHEDULED_SCANS,
    };

    await t.step(
      "an empty topic needs no rebuild: the first run creates it and produces",
      async () => {
        const result = await runOnceWithin(env);
        assert.equal(result.code, 0, result.stderr);
        assert.equal((await readTopic(broker.bootstrap, topic)).length, STREAMS);
      },
    );

    await t.step(
      "with records to read and no group ACL: exit 1, one line naming the ACL",
      async () => {
        const result = await runOnceWithin(env);
        console.log(`denied the rebuild group: --once exited ${result.code} after ${result.ms} ms`);
        assert.equal(result.code, 1, result.stderr);
        const errors = logLines(result.stderr).filter((l) => l.level === "ERROR");
        assert.equal(errors.length, 1, result.stderr);
        assert.match(
          String(errors[0].error),
          /^the broker names no coordinator for the start-up rebuild's consumer group twitch-datagen-rebuild-[0-9a-f-]{36}, which is how kafkajs reports a group that User:datagen may not use; add an ACL allowing User:datagen Read and Delete on groups with the prefix twitch-datagen-rebuild- \(--resource-pattern-type prefixed\)$/,
        );
        assert.doesNotMatch(result.stderr, /^\s+at /m);
        assert.ok(!result.stderr.includes(PASSWORD));
      },
    );

    await t.step("with the prefixed group ACL the README lists: exit 0", async () => {
      await admin.createAcls({
        acl: allow(
          AclResourceTypes.GROUP,
          "twitch-datagen-rebuild-",
          ResourcePatternTypes.PREFIXED,
          [AclOperationTypes.READ, AclOperationTypes.DELETE],
        ),
      });
      const result = await runOnceWithin(env);
      assert.equal(result.code, 0, result.stderr);
      const rebuilt = logLines(result.stderr).find((l) =>
        String(l.message).startsWith("Rebuilt the live set")
      );
      assert.equal(rebuilt?.streams, STREAMS, result.stderr);
      // The rebuild deleted its group: none is left behind.
      const { groups } = await admin.listGroups();
      assert.deepEqual(groups.filter((g) => g.groupId.startsWith("twitch-datagen-rebuild-")), []);
    });

    await t.step(
      "Write revoked while the service runs: new sessions cannot cure it, so it exits 1",
      async () => {
        // The ACLs above are those of HA=off; HA=on needs a group and a transactional id more.
        await using service = startService([], { ...env, SCHEDULE: "* * * * *", HA: "off" });
        await service.waitForLog((l) => String(l.message).startsWith("Scan ok"));
        await admin.deleteAcls({
          filters: allow(AclResourceTypes.TOPIC, topic, ResourcePatternTypes.LITERAL, [
            AclOperationTypes.WRITE,
          ]),
        });
        // The next scheduled scan meets the denial; three new sessions follow, then the exit.
        const fatal = await service.waitForLog(
          (l) => String(l.message).startsWith("Stopping with exit code 1"),
          100_000,
        );
        assert.match(String(fatal.kind), /^(TOPIC|CLUSTER)_AUTHORIZATION_FAILED$/);
        assert.match(String(fatal.hint), /^grant the service's user Write and Describe on topic /);
        const status = await service.process.status;
        assert.equal(status.code, 1);
        const result = await service.stop();
        assert.ok(!result.stderr.includes(PASSWORD));
        const replaced = logLines(result.stderr).filter((l) =>
          String(l.message).startsWith("Replacing the Kafka producer")
        );
        assert.equal(replaced.length, 3, result.stderr);
      },
    );
  } finally {
    await admin.disconnect();
  }
});
