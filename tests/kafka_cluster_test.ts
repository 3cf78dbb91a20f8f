/**
 * The three-node test cluster: replicated topics survive the crash of a
 * partition leader, leadership moves to another node within seconds, the
 * restarted node catches up, and closing leaves nothing behind. kafkajs
 * writes, kcat (librdkafka) reads back.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, readTopic, uniqueTopic, useTestCluster } from "./support/kafka.ts";
import {
  evalUntilFirstLine,
  pathExists,
  processesMentioning,
  processExists,
} from "./support/processes.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Polls `check` until it holds; fails with `what` after a generous minute. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`still not true after a minute: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends one record per key with an idempotent kafkajs producer and acks from all in-sync replicas. */
async function produceKeys(brokers: string[], topic: string, keys: string[]): Promise<void> {
  const producer = new Kafka({
    clientId: "cluster-test",
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  }).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: keys.map((key) => ({ key, value: JSON.stringify({ id: key }) })),
    });
  } finally {
    await producer.disconnect();
  }
}

function keysFrom(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

Deno.test("a partition leader's SIGKILL moves leadership to another node, and every acknowledged record is read back after its restart", async () => {
  const startedAt = performance.now();
  await using cluster = await useTestCluster({ nodes: 3, heapMb: 384 });
  const startMs = performance.now() - startedAt;

  assert.equal(cluster.brokers.length, 3);
  assert.equal(cluster.bootstrap, cluster.brokers.join(","));
  assert.deepEqual([1, 2, 3].map((id) => cluster.node(id).bootstrap), cluster.brokers);
  const pids = [1, 2, 3].map((id) => cluster.node(id).pid!);
  assert.equal(new Set(pids).size, 3);

  const topic = uniqueTopic("cluster");
  await createTopic(cluster.brokers, topic, { partitions: 3, replicationFactor: 3 });
  await cluster.waitForIsr(topic, 3);
  const before = keysFrom("before", 30);
  await produceKeys(cluster.brokers, topic, before);

  const leader = await cluster.leaderOf(topic, 0);
  assert.ok([1, 2, 3].includes(leader), `leader ${leader}`);
  const killedAt = performance.now();
  await cluster.node(leader).kill();
  assert.equal(cluster.node(leader).pid, undefined);
  assert.equal(await processExists(pids[leader - 1]), false);

  let newLeader = leader;
  while (newLeader === leader || newLeader < 1) {
    assert.ok(
      performance.now() - killedAt < 15_000,
      `partition 0 still led by ${newLeader} 15 s after node ${leader} was killed`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    newLeader = await cluster.leaderOf(topic, 0);
  }
  const failoverMs = performance.now() - killedAt;
  assert.ok([1, 2, 3].includes(newLeader) && newLeader !== leader, `new leader ${newLeader}`);

  // Two of three replicas are in sync: min.insync.replicas=2 still takes acks=all writes.
  const during = keysFrom("during", 30);
  await produceKeys(cluster.brokers, topic, during);

  await cluster.node(leader).start();
  await cluster.waitForIsr(topic, 3);
  const after = keysFrom("after", 30);
  await produceKeys(cluster.brokers, topic, after);

  const records = await readTopic(cluster.bootstrap, topic);
  const keys = records.map((r) => r.key!).sort();
  assert.deepEqual(keys, [...before, ...during, ...after].sort());
  assert.deepEqual(new Set(records.map((r) => r.partition)), new Set([0, 1, 2]));

  const restartedPid = cluster.node(leader).pid!;
  const closingAt = performance.now();
  await cluster.close();
  const closeMs = performance.now() - closingAt;

  for (const pid of [...pids, restartedPid]) assert.equal(await processExists(pid), false);
  assert.deepEqual(await processesMentioning(cluster.dir), []);
  assert.equal(await pathExists(cluster.dir), false);
  console.log(
    `cluster of 3 ready in ${Math.round(startMs)} ms; partition 0 led by node ${newLeader} ` +
      `${Math.round(failoverMs)} ms after node ${leader} was killed; closed in ${
        Math.round(closeMs)
      } ms`,
  );
});

Deno.test("when the process that started a cluster dies, every node's JVM and the cluster's folder go too", async () => {
  const script = `
    import { startKafkaCluster } from "${new URL("../dev/kafka/cluster.ts", import.meta.url)}";
    const cluster = await startKafkaCluster();
    const pids = [1, 2, 3].map((id) => cluster.node(id).pid);
    console.log(JSON.stringify({ pids, dir: cluster.dir }));
    setInterval(() => {}, 1000);
  `;
  const parent = await evalUntilFirstLine(["--config", `${ROOT}deno.json`], script);
  const line = parent.line;
  const { pids, dir } = JSON.parse(line) as { pids: number[]; dir: string };
  assert.equal(pids.length, 3);
  for (const pid of pids) assert.equal(await processExists(pid), true);
  // The three JVMs and the one watchdog that would clean up after them.
  assert.equal((await processesMentioning(dir)).length, 4);

  await parent.kill();

  for (const pid of pids) {
    await eventually(`JVM ${pid} is gone`, async () => !(await processExists(pid)));
  }
  await eventually(`${dir} is removed`, async () => !(await pathExists(dir)));
  assert.deepEqual(await processesMentioning(dir), []);
});
