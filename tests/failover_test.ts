/**
 * A partition leader SIGKILLed in the middle of a scan, on a three-node
 * cluster (replication 3, min.insync.replicas=2): the scan either ends ok
 * with every stream in the topic exactly once, or fails and the next scan
 * repairs the topic. Never "ok" with a record missing. With HA=on, the
 * transaction coordinator killed as a commit begins: no record lost, none
 * twice within a scan. The same scenarios, ten times over, are
 * `deno task bench:failover` (`--mode service` for the coordinator).
 */

import assert from "node:assert/strict";
import { useTestCluster } from "./support/kafka.ts";
import { runFailover } from "./support/failover.ts";

const STREAMS = 20_000;

Deno.test("a partition leader killed mid-scan loses no record and duplicates none", async () => {
  await using cluster = await useTestCluster();
  for (const killAfterMs of [300, 1800, 3300]) {
    const run = await runFailover(cluster, { streams: STREAMS, latencyMs: 40, killAfterMs });
    console.log(JSON.stringify(run));
    assert.ok(run.killed > 0, `the leader was killed while the scan ran (${run.outcome})`);
    if (run.code === 0) {
      assert.match(run.outcome, /^Scan ok: 20000 streams/);
      assert.equal(run.keys, STREAMS, `every stream is in the topic (${run.outcome})`);
      assert.equal(run.duplicateKeys, 0, "no key has two records from the scan");
    } else {
      assert.ok(run.repaired);
      assert.equal(run.keys, STREAMS, "the next scan repaired the topic");
    }
  }
});

Deno.test("the scheduled service with HA=on (transactions) loses no record when a partition leader dies", async () => {
  await using cluster = await useTestCluster();
  for (const killAfterMs of [500, 2500]) {
    const run = await runFailover(cluster, {
      streams: STREAMS,
      latencyMs: 40,
      killAfterMs,
      mode: "service",
    });
    console.log(JSON.stringify(run));
    assert.ok(run.killed > 0, `the leader was killed while the scan ran (${run.outcome})`);
    if (run.code === 0) {
      assert.match(run.outcome, /^Scan ok: 20000 streams/);
      assert.equal(run.keys, STREAMS, `every stream is in the topic (${run.outcome})`);
      assert.equal(run.duplicateKeys, 0, "read_committed, no key has two records from the scan");
    } else {
      assert.ok(run.repaired);
      assert.equal(run.keys, STREAMS, "the next scan repaired the topic");
    }
  }
});

Deno.test("the service with HA=on: a transaction coordinator killed as a commit begins loses no record and repeats none", async () => {
  await using cluster = await useTestCluster();
  const run = await runFailover(cluster, {
    streams: STREAMS,
    latencyMs: 40,
    killAfterMs: 1000,
    mode: "service",
    target: "transaction-coordinator",
  });
  console.log(JSON.stringify(run));
  assert.ok(run.killed > 0, `the coordinator was killed while the scan ran (${run.outcome})`);
  assert.equal(run.keys, STREAMS, `every stream is in the topic (${run.outcome})`);
  // The commit in flight is repeated at the new coordinator, in the same epoch, not sent again.
  assert.equal(run.duplicateKeys, 0, "read_committed, no key has two records from one scan");
  if (run.code !== 0) assert.ok(run.repaired);
});
