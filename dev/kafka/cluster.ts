/**
 * A real three-node Apache Kafka cluster for tests that need replication:
 * leader failover, in-sync replicas, acks=all with a node down. Each node is
 * a local broker ({@linkcode startKafkaBroker}) that is also a KRaft
 * controller, on its own loopback ports and data folder, all formatted with
 * the same cluster id and voting in the same controller quorum.
 *
 * ```ts
 * Deno.test("a leader's crash loses no acknowledged record", async () => {
 *   await using cluster = await startKafkaCluster();
 *   const leader = await cluster.leaderOf("streams", 0);
 *   await cluster.node(leader).kill();
 *   // ... the cluster is closed when the test ends, pass or fail
 * });
 * ```
 *
 * As with a single broker, a watchdog kills every node's JVM and removes the
 * cluster's folder when the Deno process that started it dies without closing it.
 *
 * @module
 */

import { Kafka, logLevel, type PartitionMetadata } from "kafkajs";
import { newClusterId } from "./broker_config.ts";
import { ensureKafkaJars } from "./jars.ts";
import { brokerIdsAt, existingClassArchive } from "./jvm.ts";
import { freePort } from "../ports.ts";
import { startWatchdog, type Watchdog, watchdogSlot } from "./watchdog.ts";
import { type KafkaBroker, PortTakenError, startKafkaBroker } from "./broker.ts";

const MAX_PORT_TRIES = 3;

/** Options of {@linkcode startKafkaCluster}. */
export interface KafkaClusterOptions {
  /** Number of nodes, each broker and controller (default 3). */
  nodes?: number;
  /** Maximum JVM heap of each node in MiB (default 384). */
  heapMb?: number;
  /** How long to wait for every node to see every other one (default 120 s). */
  readyTimeoutMs?: number;
}

/** One node of a {@linkcode KafkaCluster}: a broker that can be stopped, killed and started again. */
export interface KafkaClusterNode {
  /** The node's id (`node.id`), 1 to the number of nodes. */
  readonly id: number;
  /** `127.0.0.1:PORT` of the node's PLAINTEXT listener. */
  readonly bootstrap: string;
  /** Process id of the running JVM, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** Folder holding the node's `server.properties`, `data/` and `logs/`. */
  readonly dir: string;
  /** The node's log (warnings and errors). */
  readonly logFile: string;
  /** Starts the JVM again, on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
  /** Asks the JVM to shut down (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the JVM at once (SIGKILL), as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
  /** Resolves when the running JVM exits, whoever stopped it. */
  exited(): Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode KafkaCluster.waitForIsr}. */
export interface WaitForIsrOptions {
  /** How long to wait (default 60 s). */
  timeoutMs?: number;
}

/** A running local Kafka cluster. */
export interface KafkaCluster extends AsyncDisposable {
  /** Every node's `127.0.0.1:PORT`, comma-separated, as `KAFKA_BROKERS` and kcat take them. */
  readonly bootstrap: string;
  /** The same servers as a list, node 1's first, as kafkajs takes them. */
  readonly brokers: string[];
  /** The id every node's storage was formatted with. */
  readonly clusterId: string;
  /** Folder holding one folder per node (`node-1`, ...), removed on close. */
  readonly dir: string;
  /** The node with this id (1 to the number of nodes). */
  node(id: number): KafkaClusterNode;
  /** Id of the node that leads `partition` of `topic` now, as the cluster's metadata says (-1: none). */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** Resolves once every partition of `topic` has at least `replicas` in-sync replicas. */
  waitForIsr(topic: string, replicas: number, options?: WaitForIsrOptions): Promise<void>;
  /** Stops every node and removes the cluster's folder. */
  close(): Promise<void>;
}

/**
 * Starts a Kafka cluster (three nodes unless told otherwise) and resolves once
 * every node answers metadata requests and lists all nodes as brokers. The
 * nodes' JVMs start side by side: none is ready before a majority of the
 * controllers has formed a quorum.
 */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = options.nodes ?? 3;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`A Kafka cluster of ${count} nodes is not possible; use 1 or more`);
  }
  // Resolve the jars once here, not once per node side by side.
  const libs = await ensureKafkaJars();
  for (let attempt = 1;; attempt++) {
    try {
      return await startNodes(libs, count, options);
    } catch (error) {
      // A free port can be taken by another process between choosing and binding it.
      if (!(error instanceof PortTakenError) || attempt >= MAX_PORT_TRIES) throw error;
    }
  }
}

/** One try at starting the cluster, on ports chosen for it; a failed try leaves nothing behind. */
async function startNodes(
  libs: string,
  count: number,
  options: KafkaClusterOptions,
): Promise<KafkaCluster> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + readyTimeoutMs;
  const dir = await Deno.makeTempDir({ prefix: "kafka-cluster-" });
  const watchdog = startWatchdog(dir);
  // Every node names every controller, so all ports are chosen before any node starts.
  const ports = distinctFreePorts(count * 2);
  const clientPorts = ports.slice(0, count);
  const controllerPorts = ports.slice(count);
  const clusterId = newClusterId();
  // A node that fails makes the others give up at once, not after their timeout
  // waiting for a quorum that may never form.
  const giveUp = new AbortController();
  let firstFailure: unknown;

  const started = await Promise.allSettled(clientPorts.map(async (port, i) => {
    try {
      return await startKafkaBroker({
        dataDir: `${dir}/node-${i + 1}`,
        port,
        heapMb: options.heapMb ?? 384,
        readyTimeoutMs,
        signal: giveUp.signal,
        member: {
          nodeId: i + 1,
          controllerPorts,
          clusterId,
          watchdog: watchdogSlot(watchdog, i + 1),
        },
      });
    } catch (error) {
      if (!giveUp.signal.aborted) {
        firstFailure = error;
        giveUp.abort();
      }
      throw error;
    }
  }));
  const brokers = started.flatMap((result) => result.status === "fulfilled" ? [result.value] : []);
  const cluster = new LocalCluster(libs, dir, clusterId, brokers, watchdog);
  try {
    if (giveUp.signal.aborted) throw firstFailure;
    await cluster.waitUntilAllSeeAll(deadline, readyTimeoutMs);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}

class LocalCluster implements KafkaCluster {
  readonly dir: string;
  readonly clusterId: string;
  #libs: string;
  #nodes: KafkaBroker[];
  #watchdog: Watchdog;
  #closed = false;

  constructor(
    libs: string,
    dir: string,
    clusterId: string,
    nodes: KafkaBroker[],
    watchdog: Watchdog,
  ) {
    this.#libs = libs;
    this.dir = dir;
    this.clusterId = clusterId;
    this.#nodes = nodes;
    this.#watchdog = watchdog;
  }

  get brokers(): string[] {
    return this.#nodes.map((node) => node.bootstrap);
  }

  get bootstrap(): string {
    return this.brokers.join(",");
  }

  node(id: number): KafkaClusterNode {
    const broker = this.#nodes[id - 1];
    if (!Number.isSafeInteger(id) || broker === undefined) {
      throw new RangeError(
        `The Kafka cluster has no node ${id}; use a node id from 1 to ${this.#nodes.length}`,
      );
    }
    return {
      id,
      bootstrap: broker.bootstrap,
      get pid() {
        return broker.pid;
      },
      dir: broker.dir,
      logFile: broker.logFile,
      start: () => broker.start(),
      stop: () => broker.stop(),
      kill: () => broker.kill(),
      exited: () => broker.exited(),
    };
  }

  async leaderOf(topic: string, partition: number): Promise<number> {
    const partitions = await this.#partitions(topic);
    const found = partitions.find((p) => p.partitionId === partition);
    if (!found) throw new Error(`Topic ${topic} has no partition ${partition}`);
    return found.leader;
  }

  async waitForIsr(
    topic: string,
    replicas: number,
    options: WaitForIsrOptions = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    for (;;) {
      try {
        const partitions = await this.#partitions(topic);
        if (partitions.length > 0 && partitions.every((p) => p.isr.length >= replicas)) return;
        last = partitions.map((p) => `${p.partitionId}: [${p.isr.join(",")}]`).join(", ");
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Topic ${topic} did not get ${replicas} in-sync replicas per partition within ${timeoutMs} ms (ISR ${last})`,
        );
      }
      await sleep(200);
    }
  }

  /** Waits until each node answers metadata listing every node as a broker. */
  async waitUntilAllSeeAll(deadline: number, timeoutMs: number): Promise<void> {
    const want = this.#nodes.map((_, i) => i + 1).join(",");
    for (;;) {
      const seen = await Promise.all(
        this.#nodes.map(async (node) => (await brokerIdsAt(node.bootstrap)).join(",")),
      );
      if (seen.every((ids) => ids === want)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `The Kafka cluster's nodes did not all see each other within ${timeoutMs} ms (${
            seen.map((ids, i) => `node ${i + 1} sees [${ids}]`).join(", ")
          }); see ${this.dir}/node-*/logs/broker.log`,
        );
      }
      await sleep(200);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // The data is thrown away, so a clean shutdown (over 5 s for three nodes
      // stopping together; a last node without a quorum waits until killed)
      // buys nothing, except the class archive when none has been made yet.
      const clean = await existingClassArchive(this.#libs) === undefined;
      await Promise.all(this.#nodes.map((node) => clean ? node.stop() : node.kill()));
      await Promise.all(this.#nodes.map((node) => node.close()));
    } finally {
      await this.#watchdog.stop();
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #partitions(topic: string): Promise<PartitionMetadata[]> {
    const admin = new Kafka({
      clientId: "local-cluster-probe",
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      // A seed that is down is refused at once; the retry picks another one.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]?.partitions ?? [];
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

/** `count` ports on 127.0.0.1 that were free a moment ago, no two alike. */
function distinctFreePorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(freePort());
  return [...ports];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
