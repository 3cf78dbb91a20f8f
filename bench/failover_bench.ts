/**
 * `deno task bench:failover`: the failover scenario repeated, with the leader
 * of partition 0 SIGKILLed at a different moment of each scan, on a
 * three-node cluster. Every run must end "ok" with every key in the topic
 * exactly once, or "failed" with the next scan repairing the topic; never
 * "ok" with a record missing.
 *
 * Flags: --runs N (10), --streams N (20000), --latency MS (40),
 * --first-kill MS (0), --step MS (400): kill moments, counted from the start of the scan, --out PATH (bench/failover_results.json),
 * --mode once|service (`once`: `--once`, idempotent delivery; `service`: the scheduled service
 * with HA=on, i.e. leader election and transactional delivery), --kill partition-leader|
 * transaction-coordinator (default: the partition leader with `once`, the transaction
 * coordinator, as a commit begins, with `service`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startKafkaCluster } from "../dev/kafka/cluster.ts";
import { type FailoverRun, type FailoverTarget, runFailover } from "../tests/support/failover.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10" },
    streams: { type: "string", default: "20000" },
    latency: { type: "string", default: "40" },
    "first-kill": { type: "string", default: "0" },
    step: { type: "string", default: "400" },
    out: { type: "string", default: "bench/failover_results.json" },
    mode: { type: "string", default: "once" },
    kill: { type: "string" },
  },
});
const streams = Number(values.streams);
const mode = values.mode === "service" ? "service" : "once";
if (values.mode !== mode) throw new Error(`--mode ${values.mode}: use once or service`);
const target: FailoverTarget = (values.kill ??
  (mode === "service" ? "transaction-coordinator" : "partition-leader")) as FailoverTarget;
if (!["partition-leader", "transaction-coordinator"].includes(target)) {
  throw new Error(`--kill ${values.kill}: use partition-leader or transaction-coordinator`);
}

await using cluster = await startKafkaCluster();
const runs: FailoverRun[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  const killAfterMs = Number(values["first-kill"]) + i * Number(values.step);
  const run = await runFailover(cluster, {
    streams,
    latencyMs: Number(values.latency),
    killAfterMs,
    mode,
    target,
  });
  console.log(JSON.stringify(run));
  runs.push(run);
}
const lossy = runs.filter((r) => r.code === 0 && r.keys !== streams);
const report = {
  date: new Date().toISOString(),
  settings: {
    streams,
    latencyMs: Number(values.latency),
    mode,
    kill: target,
    deno: Deno.version.deno,
  },
  runs,
  ok: runs.filter((r) => r.code === 0).length,
  repaired: runs.filter((r) => r.repaired).length,
  okWithMissingRecords: lossy.length,
  runsWithDuplicates: runs.filter((r) => r.duplicateKeys > 0).length,
  runsWithRepeatedCommits: runs.filter((r) => r.commitRepeats > 0).length,
};
console.log(JSON.stringify(report, null, 2));
await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
if (lossy.length > 0 || runs.some((r) => r.keys !== streams)) {
  console.error("error: a run lost records");
  Deno.exit(1);
}
if (runs.some((r) => r.duplicateKeys > 0)) {
  console.error("error: a run wrote a key twice within one scan");
  Deno.exit(1);
}
