/**
 * The Kafka edge: client settings, the idempotent producer, the compacted
 * topic, and the rebuild of the live set from the topic itself at start-up.
 *
 * @module
 */

import {
  type Admin,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerBatch,
} from "kafkajs";
import { getLogger } from "@logtape/logtape";
import type { Config } from "./config.ts";
import { ConfigError } from "./errors.ts";
import type { StreamRecord } from "./record.ts";
import { type LiveStream, liveStream } from "./record.ts";
import type { LiveState } from "./endings.ts";
import { isUnreachable } from "./kafka_errors.ts";
import { retry } from "./retry.ts";

const log = getLogger(["datagen", "kafka"]);

/**
 * Delivery settings, named in one place and logged once at start-up:
 * idempotent, acknowledged by all in-sync replicas, one request in flight so
 * that retries cannot reorder a partition.
 */
export const DELIVERY = {
  idempotent: true,
  acks: -1,
  maxInFlightRequests: 1,
  compression: "none",
  /** Retries of a failed send before the scan reports it (about two minutes in all). */
  retries: 10,
} as const;

/** Reads a PEM file named by `setting`; a file that cannot be read is a configuration error. */
async function readPem(setting: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      setting,
      `cannot read "${path}" (${(error as Error).name}); give a readable PEM file`,
    );
  }
}

/**
 * Client settings from the configuration. The TLS files are read here, once,
 * at start-up.
 *
 * @throws {ConfigError} naming the variable of a TLS file that cannot be read.
 */
export async function kafkaClientConfig(kafka: Config["kafka"]): Promise<KafkaConfig> {
  let ssl: KafkaConfig["ssl"];
  if (kafka.ssl) {
    const tls: { ca?: string[]; cert?: string; key?: string } = {};
    if (kafka.ssl.caFile) tls.ca = [await readPem("KAFKA_SSL_CA_FILE", kafka.ssl.caFile)];
    if (kafka.ssl.certFile) tls.cert = await readPem("KAFKA_SSL_CERT_FILE", kafka.ssl.certFile);
    if (kafka.ssl.keyFile) tls.key = await readPem("KAFKA_SSL_KEY_FILE", kafka.ssl.keyFile);
    ssl = Object.keys(tls).length > 0 ? tls : true;
  }
  return {
    clientId: kafka.clientId,
    brokers: kafka.brokers,
    ssl,
    sasl: kafka.sasl
      ? {
        mechanism: kafka.sasl.mechanism,
        username: kafka.sasl.username,
        password: kafka.sasl.password,
      } as KafkaConfig["sasl"]
      : undefined,
    connectionTimeout: 5_000,
    authenticationTimeout: 10_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      const { message, ...properties } = entry;
      // kafkajs logs every failed attempt, retried or not, several lines each;
      // the operation's final failure is reported once by the caller, so
      // these are details for LOG_LEVEL=debug.
      if (level <= logLevel.WARN) {
        log.debug(`kafkajs: ${message}`, { namespace, ...scrub(properties) });
      }
    },
  };
}

/** Drops fields that could carry credentials from kafkajs log entries. */
function scrub(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (/sasl|password|ssl|stack|^logger$|^timestamp$/i.test(key)) continue;
    out[key] = value;
  }
  return out;
}

/**
 * Sends of one batch while the broker cannot be reached. kafkajs ends a send
 * as soon as one reconnect fails (its client retries, about ten seconds),
 * whatever {@link DELIVERY}'s retries say, so a broker restart would fail the
 * scan; sending the batch again (same sequence numbers, so the broker drops
 * what it already has) rides out about two minutes of outage.
 */
export const UNREACHABLE_SENDS = 8;

/** Creates the client (no connection yet). */
export function createKafka(config: KafkaConfig): Kafka {
  return new Kafka(config);
}

/** Creates the idempotent producer with {@link DELIVERY}'s settings. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: DELIVERY.idempotent,
    maxInFlightRequests: DELIVERY.maxInFlightRequests,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: DELIVERY.retries, initialRetryTime: 300, maxRetryTime: 15_000 },
  });
}

/** Returns a function that sends one batch of records and resolves once every broker acknowledged it. */
export function kafkaSender(
  producer: Producer,
  topic: string,
): (batch: StreamRecord[]) => Promise<void> {
  return async (batch) => {
    const request: ProducerBatch = {
      acks: DELIVERY.acks,
      topicMessages: [{
        topic,
        messages: batch.map((r) => ({
          key: r.key,
          value: r.value,
          timestamp: String(r.timestamp),
          headers: r.headers as IHeaders,
        })),
      }],
    };
    await retry(() => producer.sendBatch(request), {
      attempts: UNREACHABLE_SENDS,
      baseMs: 1000,
      capMs: 15_000,
      retryable: isUnreachable,
      onRetry: (error, attempt, waitMs) =>
        log.warn(
          "Kafka unreachable while producing ({error}); sending {records} records again in {waitMs} ms (attempt {attempt} of {attempts})",
          {
            error: (error as Error).message,
            records: batch.length,
            waitMs,
            attempt: attempt + 1,
            attempts: UNREACHABLE_SENDS,
          },
        ),
    });
  };
}

/** What {@link ensureTopic} found or did. */
export interface TopicStatus {
  created: boolean;
  partitions: number;
  cleanupPolicy: string;
}

/**
 * Creates the topic with `cleanup.policy=compact` when it is missing. An
 * existing topic is used as it is; the caller warns when it is not compacted.
 */
export async function ensureTopic(
  admin: Admin,
  options: { topic: string; partitions: number; replicationFactor?: number },
): Promise<TopicStatus> {
  const topics = await admin.listTopics();
  let created = false;
  if (!topics.includes(options.topic)) {
    const cluster = await admin.describeCluster();
    const replicationFactor = options.replicationFactor ?? Math.min(3, cluster.brokers.length);
    created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic: options.topic,
        numPartitions: options.partitions,
        replicationFactor,
        configEntries: [{ name: "cleanup.policy", value: "compact" }],
      }],
    });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [options.topic] });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2, /* TOPIC */ name: options.topic, configNames: ["cleanup.policy"] }],
  });
  const policy = configs.resources[0]?.configEntries.find((e) => e.configName === "cleanup.policy");
  return {
    created,
    partitions: metadata.topics[0]?.partitions.length ?? 0,
    cleanupPolicy: policy?.configValue ?? "",
  };
}

/**
 * Reads the topic from the start to its current end and returns the live
 * streams it holds: the newest value per key, tombstones delete. The topic
 * is the only state store, so a restarted service knows what it had produced.
 */
export async function readLiveState(kafka: Kafka, topic: string): Promise<LiveState> {
  const state: LiveState = new Map();
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `twitch-datagen-rebuild-${crypto.randomUUID()}`;
  let skipped = 0;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const pending = new Map<number, bigint>();
    for (const o of offsets) {
      if (BigInt(o.high) > BigInt(o.low)) pending.set(o.partition, BigInt(o.high));
    }
    if (pending.size === 0) return state;
    const consumer = kafka.consumer({
      groupId,
      // Small fetches: the rebuild is bound by parsing, and big ones only raise the memory peak.
      maxBytes: 4 * 1024 * 1024,
      maxBytesPerPartition: 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    try {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        // deno-lint-ignore require-await
        eachBatch: async ({ batch }) => {
          try {
            for (const message of batch.messages) {
              const key = message.key?.toString("utf8");
              if (key === undefined) continue;
              if (message.value === null) {
                state.delete(key);
                continue;
              }
              const live = parseLive(message.value.toString("utf8"));
              if (live === null) skipped++;
              else state.set(key, live);
            }
            const high = pending.get(batch.partition);
            if (high !== undefined && BigInt(batch.lastOffset()) + 1n >= high) {
              pending.delete(batch.partition);
              if (pending.size === 0) resolve();
            }
          } catch (error) {
            reject(error);
          }
        },
      });
      await promise;
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => {});
    if (skipped > 0) {
      log.warn("Ignored {skipped} records of {topic} that are not Helix stream objects", {
        skipped,
        topic,
      });
    }
    return state;
  } finally {
    await admin.disconnect();
  }
}

/** The fields a later scan needs from a record's value, or null when it is not a stream object. */
export function parseLive(text: string): LiveStream | null {
  // The values are JSON.stringify output of Helix objects, where a quote inside
  // a string is always escaped, so these patterns can only match top-level
  // fields. Reading two fields this way spares the start-up rebuild a full
  // parse (and its garbage) per record; anything unusual takes the full parse.
  const userId = /"user_id":"(\d+)"/.exec(text)?.[1];
  const startedAt = /"started_at":"([0-9T:.Z+-]+)"/.exec(text)?.[1];
  if (userId !== undefined && startedAt !== undefined) {
    return { userId, startedAt: Date.parse(startedAt) };
  }
  try {
    const value = JSON.parse(text);
    if (typeof value?.user_id !== "string" || typeof value?.started_at !== "string") return null;
    return liveStream(value);
  } catch {
    return null;
  }
}
