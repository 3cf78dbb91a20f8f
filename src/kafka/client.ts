/**
 * The Kafka edge: client settings, the idempotent producer, the compacted
 * topic.
 *
 * @module
 */

import {
  type Admin,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/errors.ts";
import { createDelivery, type Delivery } from "./delivery.ts";
import { patchKafkajsIdleLoop } from "./kafkajs_patch.ts";
import { patchKafkajsCommit } from "./kafkajs_commit_patch.ts";
import {
  createTransactionalDelivery,
  TRANSACTION_TIMEOUT_MS,
  type TransactionalDelivery,
} from "./transactional.ts";
import { transactionalId } from "./leader.ts";

const log = getLogger(["datagen", "kafka"]);

/**
 * Delivery settings, named in one place and logged once at start-up:
 * idempotent, acknowledged by all in-sync replicas, one request in flight so
 * that retries cannot reorder a partition, one partition per request (see
 * {@link kafkaDelivery}).
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
 * Creates the client (no connection yet), with kafkajs's idle timer loop patched out and
 * its commits repeated when their outcome is unknown.
 */
export function createKafka(config: KafkaConfig): Kafka {
  patchKafkajsIdleLoop();
  patchKafkajsCommit();
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

/**
 * The loss-free delivery of batches to `topic` (see {@link createDelivery}):
 * one request per partition, and a new producer session whenever kafkajs
 * gives up, with exactly the unacknowledged records sent again.
 */
export function kafkaDelivery(kafka: Kafka, topic: string): Delivery {
  return createDelivery({
    topic,
    newProducer: () => createProducer(kafka),
    partitions: () => topicPartitionCount(kafka, topic),
  });
}

/**
 * The transactional delivery of batches to `topic` (see
 * {@link createTransactionalDelivery}): one transaction per batch, with the
 * topic's `transactional.id`, so that a new leader fences the old one.
 */
export function kafkaTransactionalDelivery(
  kafka: Kafka,
  topic: string,
  mayWrite: () => boolean,
  partitions: () => Promise<number> = () => topicPartitionCount(kafka, topic),
): TransactionalDelivery {
  return createTransactionalDelivery({
    topic,
    newProducer: () =>
      kafka.producer({
        idempotent: DELIVERY.idempotent,
        maxInFlightRequests: DELIVERY.maxInFlightRequests,
        transactionalId: transactionalId(topic),
        // Set explicitly: the delivery commits a transaction only while younger than half
        // of it. A transaction of a scan's batch takes seconds; a stuck one is aborted.
        transactionTimeout: TRANSACTION_TIMEOUT_MS,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: DELIVERY.retries, initialRetryTime: 300, maxRetryTime: 15_000 },
      }),
    partitions,
    mayWrite,
  });
}

/** The topic's partition count, from a metadata request. */
export async function topicPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions in the metadata`);
    return count;
  } finally {
    await admin.disconnect().catch(() => {});
  }
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
