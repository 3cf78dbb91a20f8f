/**
 * Kafka for tests: a broker to talk to (the one in `KAFKA_BROKERS`, or a
 * throwaway local one), and an independent reader (`kcat`, i.e. librdkafka)
 * to check what really landed in a topic.
 *
 * ```ts
 * Deno.test("records land keyed by stream id", async () => {
 *   await using kafka = await useTestBroker();
 *   const topic = uniqueTopic("streams");
 *   // ... produce to kafka.bootstrap ...
 *   const records = await readTopic(kafka.bootstrap, topic);
 * });
 * ```
 *
 * @module
 */

import { type Admin, Kafka, logLevel } from "kafkajs";
import {
  type KafkaBroker,
  type KafkaBrokerOptions,
  startKafkaBroker,
} from "../../dev/kafka/broker.ts";
import {
  type KafkaCluster,
  type KafkaClusterOptions,
  startKafkaCluster,
} from "../../dev/kafka/cluster.ts";

/** A broker for one test; closing it stops a broker the test started and leaves others alone. */
export interface TestBroker extends AsyncDisposable {
  /** Bootstrap servers, comma-separated, as `KAFKA_BROKERS` takes them. */
  readonly bootstrap: string;
  /** The same servers as a list, as kafkajs takes them. */
  readonly brokers: string[];
  /** The local broker this test started; `undefined` when using `KAFKA_BROKERS`. */
  readonly local: KafkaBroker | undefined;
  /** Stops and removes a broker this test started. */
  close(): Promise<void>;
}

/** Options of {@linkcode useTestBroker}: any broker option means the test needs a broker of its own. */
export interface TestBrokerOptions extends KafkaBrokerOptions {
  /** Start a broker of its own even when `KAFKA_BROKERS` is set (e.g. to kill it). */
  own?: boolean;
}

/**
 * Gives a test a broker: the one in `KAFKA_BROKERS` when set (and the test
 * does not need its own), otherwise a fresh local broker. Use with
 * `await using` so it is closed even when the test fails.
 */
export async function useTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const { own, ...brokerOptions } = options;
  const external = Deno.env.get("KAFKA_BROKERS")?.trim();
  if (external && !own && Object.keys(brokerOptions).length === 0) {
    const brokers = external.split(",").map((s) => s.trim()).filter((s) => s !== "");
    return {
      bootstrap: brokers.join(","),
      brokers,
      local: undefined,
      async close() {},
      async [Symbol.asyncDispose]() {},
    };
  }
  const local = await startKafkaBroker(brokerOptions);
  return {
    bootstrap: local.bootstrap,
    brokers: [local.bootstrap],
    local,
    close() {
      return local.close();
    },
    [Symbol.asyncDispose]() {
      return local.close();
    },
  };
}

/**
 * Gives a test a local cluster of its own (three nodes unless told otherwise),
 * for tests that kill nodes or need replicas; never the brokers in
 * `KAFKA_BROKERS`. Use with `await using` so it is closed even when the test fails.
 */
export function useTestCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  return startKafkaCluster(options);
}

/** Runs `fn` with a test broker ({@linkcode useTestBroker}) and closes it afterwards, pass or fail. */
export async function withTestBroker<T>(
  fn: (broker: TestBroker) => Promise<T>,
  options: TestBrokerOptions = {},
): Promise<T> {
  await using broker = await useTestBroker(options);
  return await fn(broker);
}

/** A topic name no other test uses, so tests can share an external broker. */
export function uniqueTopic(prefix = "test"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** One record as it is stored in a topic. */
export interface TopicRecord {
  partition: number;
  offset: number;
  /** `null` when the record has no key. */
  key: string | null;
  /** `null` for a tombstone. */
  value: string | null;
  headers: Record<string, string>;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Options of {@linkcode readTopic}. */
export interface ReadTopicOptions {
  /** librdkafka settings passed as `kcat -X key=value`, e.g. for SASL or SSL. */
  config?: Record<string, string>;
}

/**
 * Reads every record of `topic` from the beginning to the current end with
 * `kcat`, sorted by partition and offset. `brokers` may list several servers,
 * as a list or comma-separated.
 */
export async function readTopic(
  brokers: string | string[],
  topic: string,
  options: ReadTopicOptions = {},
): Promise<TopicRecord[]> {
  const config = Object.entries(options.config ?? {}).flatMap(([k, v]) => ["-X", `${k}=${v}`]);
  const bootstrap = Array.isArray(brokers) ? brokers.join(",") : brokers;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("kcat", {
      // -J prints one JSON object per record, with null for a missing key or value.
      args: [
        "-C",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-q",
        "-J",
        "-Z",
        ...config,
      ],
      stdin: "null",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("kcat is needed to read topics in tests; install it (apt-get install kcat)");
    }
    throw error;
  }
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success) throw new Error(`kcat could not read topic ${topic}: ${stderr}`);
  const records = new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== "")
    .map(parseKcatRecord);
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** One line of `kcat -J` output as a {@linkcode TopicRecord}. */
export function parseKcatRecord(line: string): TopicRecord {
  const json = JSON.parse(line);
  const headers: Record<string, string> = {};
  const pairs: (string | null)[] = json.headers ?? [];
  for (let i = 0; i < pairs.length; i += 2) headers[pairs[i] ?? ""] = pairs[i + 1] ?? "";
  return {
    partition: json.partition,
    offset: json.offset,
    key: json.key ?? null,
    value: json.payload ?? null,
    headers,
    timestamp: json.ts,
  };
}

/** Options of {@linkcode createTopic}. */
export interface CreateTopicOptions {
  /** Number of partitions (default 1). */
  partitions?: number;
  /** Copies of each partition (default 1; -1 takes the brokers' `default.replication.factor`). */
  replicationFactor?: number;
  /** Topic settings such as `cleanup.policy`. */
  config?: Record<string, string>;
  /**
   * Whether kafkajs waits for the partitions' leaders (default true). Its wait lets an
   * UNKNOWN_TOPIC_OR_PARTITION from a broker whose metadata lags escape as an unhandled
   * rejection; callers that wait for the ISR themselves pass false.
   */
  waitForLeaders?: boolean;
}

/** Creates `topic` and, unless told otherwise, waits until its partitions have leaders. */
export async function createTopic(
  brokers: string | string[],
  topic: string,
  options: CreateTopicOptions = {},
): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const created = await admin.createTopics({
      waitForLeaders: options.waitForLeaders ?? true,
      topics: [{
        topic,
        numPartitions: options.partitions ?? 1,
        replicationFactor: options.replicationFactor ?? 1,
        configEntries: Object.entries(options.config ?? {}).map(([name, value]) => ({
          name,
          value,
        })),
      }],
    });
    if (!created) throw new Error(`Topic ${topic} exists already`);
  });
}

/** The effective settings of `topic` (defaults included), by name. */
export async function topicConfig(
  brokers: string | string[],
  topic: string,
): Promise<Record<string, string>> {
  return await withAdmin(brokers, async (admin) => {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, /* ConfigResourceTypes.TOPIC */ name: topic }],
    });
    const entries: Record<string, string> = {};
    for (const entry of resources[0]?.configEntries ?? []) {
      if (entry.configValue !== null) entries[entry.configName] = entry.configValue;
    }
    return entries;
  });
}

/** Partition count of `topic`. */
export async function topicPartitions(brokers: string | string[], topic: string): Promise<number> {
  return await withAdmin(brokers, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0].partitions.length;
  });
}

async function withAdmin<T>(
  brokers: string | string[],
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const list = Array.isArray(brokers) ? brokers : brokers.split(",");
  const admin = new Kafka({ clientId: "test-support", brokers: list, logLevel: logLevel.NOTHING })
    .admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}
