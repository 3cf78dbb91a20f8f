/**
 * The failover scenario: a `--once` scan of the simulator into a topic of a
 * three-node cluster (replication 3, `min.insync.replicas=2`), with the
 * leader of partition 0 SIGKILLed at a chosen moment of the scan; or, with
 * HA=on, the transaction coordinator of the topic's transactional id, as
 * the first commit after that moment begins. Shared by the failover test and
 * `deno task bench:failover`.
 *
 * @module
 */

import type { KafkaCluster } from "../../dev/kafka/cluster.ts";
import { transactionCoordinatorOf } from "./coordinator.ts";
import { createTopic, readTopic, uniqueTopic } from "./kafka.ts";
import { NO_SCHEDULED_SCANS, runService, startService } from "./service.ts";

/** One run of the scenario. */
export interface FailoverRun {
  /** Milliseconds into the scan (after the start-up rebuild) that the leader was killed. */
  killAfterMs: number;
  /** The node that was killed (-1: the scan ended before the kill). */
  killed: number;
  /** Exit code of the scan. */
  code: number;
  /** The scan's summary line, or its failure line. */
  outcome: string;
  /** Distinct keys in the topic after the scan (and the repair scan, when the first failed). */
  keys: number;
  /** Keys with more than one record of the same scan (`scan-id` header), as read_committed readers see them. */
  duplicateKeys: number;
  /** Whether a second scan ran because the first one failed. */
  repaired: boolean;
  /** Producer sessions replaced during the scan (from its warnings). */
  newSessions: number;
  /** Batches sent again after a failed send (any kind), from the scan's warnings. */
  resends: number;
  /** Which node was killed: the partition's leader or the transaction coordinator. */
  target: FailoverTarget;
  /** Commits repeated because their outcome was unknown, from the warnings. */
  commitRepeats: number;
}

/** What the scenario kills. */
export type FailoverTarget = "partition-leader" | "transaction-coordinator";

/** Settings of {@link runFailover}. */
export interface FailoverOptions {
  streams: number;
  latencyMs: number;
  killAfterMs: number;
  /**
   * `once`: `--once`, plain idempotent delivery. `service`: the scheduled
   * service as it ships (`HA=on`: leader election and transactions), whose
   * start-up scan is the one observed.
   */
  mode?: "once" | "service";
  /**
   * `partition-leader` (default): the leader of partition 0, `killAfterMs` into the scan.
   * `transaction-coordinator` (service mode): the coordinator of `twitch-datagen.<topic>`,
   * as the first commit that begins `killAfterMs` into the scan is sent.
   */
  target?: FailoverTarget;
}

function environment(cluster: KafkaCluster, topic: string, options: FailoverOptions) {
  return {
    SOURCE: "simulated",
    SIM_STREAMS: String(options.streams),
    SIM_LATENCY_MS: String(options.latencyMs),
    SIM_CHURN: "0",
    KAFKA_BROKERS: cluster.bootstrap,
    KAFKA_TOPIC: topic,
    LOG_FORMAT: "json",
  };
}

/**
 * Runs one scan with a partition leader killed after `killAfterMs`, restarts
 * the killed node, and reads the topic back with kcat. A failed scan is
 * followed by a second `--once`, which must repair the topic.
 */
export async function runFailover(
  cluster: KafkaCluster,
  options: FailoverOptions,
): Promise<FailoverRun> {
  const topic = uniqueTopic("failover");
  await createTopic(cluster.bootstrap, topic, {
    partitions: 3,
    replicationFactor: 3,
    config: { "cleanup.policy": "compact" },
    waitForLeaders: false,
  });
  await cluster.waitForIsr(topic, 3);
  const env = environment(cluster, topic, options);
  const serviceMode = options.mode === "service";
  const target = options.target ?? "partition-leader";
  if (target === "transaction-coordinator" && !serviceMode) {
    throw new Error("only the service (HA=on) has a transaction coordinator to kill");
  }
  const service = serviceMode
    ? startService([], {
      ...env,
      SCHEDULE: NO_SCHEDULED_SCANS,
      // The delivery logs each commit as it begins (debug), which times the kill.
      ...(target === "transaction-coordinator" ? { LOG_LEVEL: "debug" } : {}),
    })
    : startService(["--once"], env);
  let killed = -1;
  const killer = (async () => {
    // The scan starts right after the rebuild of the live set.
    await service.waitForLog((l) => String(l.message).startsWith("Rebuilt the live set"));
    await new Promise((resolve) => setTimeout(resolve, options.killAfterMs));
    const status = await Promise.race([service.process.status, Promise.resolve(null)]);
    if (status !== null) return;
    if (service.logs().some((l) => /^Scan (ok|failed|aborted)/.test(String(l.message)))) return;
    if (target === "transaction-coordinator") {
      const coordinator = await transactionCoordinatorOf(
        cluster.brokers,
        `twitch-datagen.${topic}`,
      );
      const before = new Set(service.logs());
      const line = await service.waitForLog(
        (l) =>
          !before.has(l) &&
          /^(Committing the transaction|Scan (ok|failed|aborted))/.test(String(l.message)),
        120_000,
      );
      if (!String(line.message).startsWith("Committing")) return;
      killed = coordinator;
    } else {
      killed = await cluster.leaderOf(topic, 0);
    }
    if (killed > 0) await cluster.node(killed).kill();
  })();
  let code: number;
  if (serviceMode) {
    const line = await service.waitForLog(
      (l) => /^Scan (ok|failed|aborted)/.test(String(l.message)),
      240_000,
    );
    await killer;
    code = String(line.message).startsWith("Scan ok") ? 0 : 1;
  } else {
    code = (await service.process.status).code;
    await killer;
  }
  const result = await service.stop();
  const lines = result.stderr.split("\n").filter((l) => l !== "").map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return { message: l };
    }
  });
  const outcome = String(
    lines.find((l) => /^Scan (ok|failed|aborted)/.test(String(l.message)))?.message ??
      result.stderr.trim().split("\n").at(-1),
  );
  const newSessions =
    lines.filter((l) => String(l.message).startsWith("Replacing the Kafka producer"))
      .length;
  const repeat = (l: { message?: unknown }) =>
    String(l.message).startsWith("The commit's outcome is unknown");
  const resends = lines.filter((l) => / again /.test(String(l.message)) && !repeat(l)).length;
  const commitRepeats = lines.filter(repeat).length;
  if (killed > 0) {
    await cluster.node(killed).start();
    await cluster.waitForIsr(topic, 3, { timeoutMs: 120_000 });
  }
  const first = await readTopic(cluster.bootstrap, topic);
  // A new term scans again (its records carry another scan id): only a key twice within one
  // scan is a duplicate.
  const perScanKey = new Map<string, number>();
  for (const record of first) {
    const id = `${record.headers["scan-id"]} ${record.key}`;
    perScanKey.set(id, (perScanKey.get(id) ?? 0) + 1);
  }
  const duplicateKeys = [...perScanKey.values()].filter((n) => n > 1).length;
  let repaired = false;
  let keys = new Set(first.map((r) => r.key)).size;
  if (code !== 0) {
    repaired = true;
    const again = await runService(["--once"], env);
    if (again.code !== 0) throw new Error(`the repair scan failed too:\n${again.stderr}`);
    keys = new Set((await readTopic(cluster.bootstrap, topic)).map((r) => r.key)).size;
  }
  return {
    killAfterMs: options.killAfterMs,
    killed,
    code,
    outcome,
    keys,
    duplicateKeys,
    repaired,
    newSessions,
    resends,
    target,
    commitRepeats,
  };
}
