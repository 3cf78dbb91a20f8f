/**
 * The leader election on a broker that checks ACLs (HA=on): a service whose
 * principal may not use the leader group stops with exit code 1 and one line
 * naming the grant, instead of standing by for good; with the grant the
 * README lists, it leads and scans.
 */

import assert from "node:assert/strict";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from "kafkajs";
import { uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, startService } from "./support/service.ts";
import { authorizerProperties } from "../dev/kafka/broker_config.ts";
import { coordinationTopic, leaderGroupId, transactionalId } from "../src/kafka/leader.ts";

const USER = "datagen";
const PASSWORD = "zz-ha-acl-pass-4417";

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

Deno.test("with ACLs, a service denied the leader group exits 1 naming the grant, and leads once granted", async (t) => {
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
    const topic = uniqueTopic("ha-acl");
    const groupId = leaderGroupId(topic);
    // Everything the README lists for HA=on except the leader group.
    await admin.createAcls({
      acl: [
        ...allow(AclResourceTypes.TOPIC, topic, ResourcePatternTypes.LITERAL, [
          AclOperationTypes.DESCRIBE,
          AclOperationTypes.READ,
          AclOperationTypes.WRITE,
          AclOperationTypes.CREATE,
          AclOperationTypes.DESCRIBE_CONFIGS,
        ]),
        ...allow(
          AclResourceTypes.GROUP,
          "twitch-datagen-rebuild-",
          ResourcePatternTypes.PREFIXED,
          [AclOperationTypes.READ, AclOperationTypes.DELETE],
        ),
        ...allow(AclResourceTypes.TOPIC, coordinationTopic(groupId), ResourcePatternTypes.LITERAL, [
          AclOperationTypes.DESCRIBE,
          AclOperationTypes.READ,
          AclOperationTypes.CREATE,
        ]),
        ...allow(
          AclResourceTypes.TRANSACTIONAL_ID,
          transactionalId(topic),
          ResourcePatternTypes.LITERAL,
          [AclOperationTypes.DESCRIBE, AclOperationTypes.WRITE],
        ),
      ],
    });
    const env = {
      SOURCE: "simulated",
      SIM_STREAMS: "100",
      SIM_SEED: "5",
      KAFKA_BROKERS: local.saslBootstrap!,
      KAFKA_TOPIC: topic,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD: PASSWORD,
      KAFKA_SESSION_TIMEOUT_MS: "6000",
      SCHEDULE: "* * * * *",
    };

    await t.step(
      "without Read on the leader group: exit 1, one line naming the grant",
      async () => {
        await using service = startService([], env);
        // Before the fix it stood by for good: a bound keeps that from hanging the test.
        await service.waitForLog(
          (l) => String(l.message).startsWith("Stopping with exit code 1"),
          60_000,
        );
        const status = await service.process.status;
        const result = await service.stop();
        assert.equal(status.code, 1, result.stderr);
        const errors = logLines(result.stderr).filter((l) => l.level === "ERROR");
        assert.equal(errors.length, 1, result.stderr);
        assert.match(String(errors[0].message), /^Stopping with exit code 1: /);
        assert.equal(
          errors[0].error,
          `the broker names no coordinator for the leader election group ${groupId}, which is how kafkajs reports a group that the service's user may not use; grant it Read on group ${groupId} (KAFKA_LEADER_GROUP), or set HA=off`,
        );
        assert.ok(!result.stderr.includes(PASSWORD));
      },
    );

    await t.step("with Read on the leader group: it leads and scans", async () => {
      await admin.createAcls({
        acl: allow(AclResourceTypes.GROUP, groupId, ResourcePatternTypes.LITERAL, [
          AclOperationTypes.READ,
        ]),
      });
      await using service = startService([], env);
      await service.waitForLog(
        (l) => String(l.message).startsWith("Leadership:") && l.role === "leader",
        90_000,
      );
      const scan = await service.waitForLog((l) => /^Scan (ok|failed)/.test(String(l.message)));
      assert.equal(scan.result, "ok");
      const result = await service.stop();
      assert.equal(result.code, 0, result.stderr);
    });
  } finally {
    await admin.disconnect();
  }
});
