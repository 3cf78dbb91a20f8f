/**
 * Delivery of a scan's batches to Kafka, loss-free across broker failures.
 *
 * kafkajs 2.2.4 can lose records on a leader change, in two ways:
 * - A retry of a multi-partition send goes only to the brokers that had not
 *   answered the first attempt. When a dead leader's partitions move to a
 *   broker that already answered for its own, they are never sent, yet the
 *   send resolves (kafkajs issue 1303).
 * - When a send fails, kafkajs rewinds the idempotent producer's sequence
 *   numbers for the request, though the broker may have written part of it.
 *   The next, different records then reuse those numbers, and the broker
 *   drops them as duplicates while acknowledging them, or refuses them with
 *   OUT_OF_ORDER_SEQUENCE_NUMBER.
 *
 * So every request carries one partition only (keys are assigned with
 * kafkajs's own murmur2 partitioner, as before), which leaves each retry
 * exactly one broker to ask; a partition that failed is sent again with the
 * same records only, whose rewound sequence numbers let the broker drop what
 * it already has; and once kafkajs gives up otherwise, the producer is
 * replaced by a new session (a new producer id) before anything else is
 * sent, and exactly the unacknowledged records are sent again.
 *
 * @module
 */

import { type IHeaders, type Message, Partitioners, type PartitionMetadata } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import type { StreamRecord } from "../scan/record.ts";
import { fatalProducerError, isUnreachable } from "./errors.ts";
import { backoffDelay, sleep } from "../util/retry.ts";

const log = getLogger(["datagen", "kafka"]);

/** What delivery needs of a kafkajs producer. */
export interface ProducerSession {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; acks: number; messages: Message[] }): Promise<unknown>;
}

/** Settings and edges of {@link createDelivery}. */
export interface DeliveryOptions {
  topic: string;
  /** Creates a producer; each one is a new idempotent session with its own producer id. */
  newProducer: () => ProducerSession;
  /** Reads the topic's partition count (at start and whenever a session is replaced). */
  partitions: () => Promise<number>;
  /** Sends of the same records while the broker cannot be reached (default {@link UNREACHABLE_SENDS}). */
  unreachableSends?: number;
  /** New sessions tried for one batch before it fails (default {@link NEW_SESSIONS}). */
  newSessions?: number;
  /** Upper bound of the first wait between sends, in milliseconds (default 1000). */
  baseMs?: number;
  /** Upper bound of any wait between sends, in milliseconds (default 15000). */
  capMs?: number;
  /** Source of randomness for the waits. */
  random?: () => number;
}

/** Why the producer cannot go on: errors that new sessions did not cure. */
export interface DeliveryFatal {
  /** The Kafka error type, e.g. `TOPIC_AUTHORIZATION_FAILED`. */
  kind: string;
  message: string;
}

/** Sends batches; one at a time. */
export interface Delivery {
  /** Resolves once Kafka acknowledged every record of the batch (acks=all). */
  send(batch: readonly StreamRecord[]): Promise<void>;
  /** Set when a batch failed with fatal producer errors that new sessions did not cure. */
  readonly fatal: DeliveryFatal | null;
  /** Producer sessions opened so far (1 once started). */
  readonly sessions: number;
  /** Opens the first producer session now rather than at the first send. */
  connect(): Promise<void>;
  /** Disconnects the current producer. */
  close(): Promise<void>;
}

/**
 * Sends of the same records while the broker cannot be reached. kafkajs ends
 * a send as soon as one reconnect fails (its client retries, about ten
 * seconds), so a broker restart would fail the scan; sending the same
 * records again rides out about two minutes of outage.
 */
export const UNREACHABLE_SENDS = 8;

/** New producer sessions tried for one batch before the batch fails. */
export const NEW_SESSIONS = 3;

/** A failed send of one batch, after every recovery was tried. */
export class DeliveryError extends Error {
  /** The records of the batch that Kafka did not acknowledge. */
  readonly unacknowledged: number;
  /** Set when the cause is a fatal producer error (see {@link DeliveryFatal}). */
  readonly fatal: DeliveryFatal | null;

  constructor(cause: unknown, unacknowledged: number, fatal: DeliveryFatal | null) {
    super((cause as Error)?.message ?? String(cause), { cause });
    this.name = "DeliveryError";
    this.unacknowledged = unacknowledged;
    this.fatal = fatal;
  }
}

/** The topic's partition count changed while the service ran. */
export class PartitionCountChanged extends Error {
  /** The {@link DeliveryFatal} kind it is reported as. */
  static readonly kind = "PARTITION_COUNT_CHANGED";

  constructor(topic: string, before: number, now: number) {
    super(
      `topic ${topic} now has ${now} partitions where it had ${before}; keys would change partitions, so restart the service (and do not resize a compacted topic whose keys must stay put)`,
    );
    this.name = "PartitionCountChanged";
  }
}

/**
 * Reads the partition count through `read`, and throws {@link PartitionCountChanged}
 * whenever it differs from the first count read. With HA, one reader serves every term
 * of an instance, so that a new term does not adopt a new count either.
 */
export function pinPartitionCount(
  topic: string,
  read: () => Promise<number>,
): () => Promise<number> {
  let first = 0;
  return async () => {
    const count = await read();
    if (first === 0) first = count;
    else if (count !== first) throw new PartitionCountChanged(topic, first, count);
    return count;
  };
}

const partitioner = Partitioners.DefaultPartitioner();
/** The metadata the partitioner is shown, per partition count (it reads only the count). */
const metadataByCount = new Map<number, PartitionMetadata[]>();

/** The partition kafkajs's default (murmur2, Java-compatible) partitioner gives `key`. */
export function partitionOf(key: string, partitions: number, topic = ""): number {
  let partitionMetadata = metadataByCount.get(partitions);
  if (partitionMetadata === undefined) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
      partitionErrorCode: 0,
    }));
    metadataByCount.set(partitions, partitionMetadata);
  }
  return partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/**
 * Whether kafkajs's answer to a one-partition send acknowledges that
 * partition. kafkajs resolves with no answer at all for a partition missing
 * from its metadata (a topic recreated with fewer partitions, say), without
 * sending anything: that is not an acknowledgement.
 */
export function acknowledges(result: unknown, partition: number): boolean {
  return Array.isArray(result) &&
    result.some((r) => r?.partition === partition && (r.errorCode ?? 0) === 0);
}

/** kafkajs errors after which the same records may go again on the same producer. */
function resendable(error: unknown): boolean {
  // A broker lock timeout comes before any sequence number is taken.
  return isUnreachable(error) || (error as Error)?.name === "KafkaJSLockTimeout";
}

/** Groups records by partition, each group in the batch's order. */
export function groupByPartition(
  records: readonly StreamRecord[],
  partitions: number,
): Map<number, StreamRecord[]> {
  const groups = new Map<number, StreamRecord[]>();
  for (const record of records) {
    const partition = partitionOf(record.key, partitions);
    const group = groups.get(partition);
    if (group) group.push(record);
    else groups.set(partition, [record]);
  }
  return groups;
}

/** The kafkajs message of a record, bound to its partition. */
export function toMessage(record: StreamRecord, partition: number): Message {
  return {
    key: record.key,
    value: record.value,
    partition,
    timestamp: String(record.timestamp),
    headers: record.headers as IHeaders,
  };
}

/**
 * `send`, one call at a time whoever calls: two sends at once on one producer
 * would interleave its sequence numbers (or its transactions).
 */
export function oneAtATime(
  send: (batch: readonly StreamRecord[]) => Promise<void>,
): (batch: readonly StreamRecord[]) => Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  return (batch) => {
    const run = queue.then(() => send(batch));
    queue = run.catch(() => {});
    return run;
  };
}

/** Creates the delivery; the first producer session opens on the first send. */
export function createDelivery(options: DeliveryOptions): Delivery {
  const unreachableSends = options.unreachableSends ?? UNREACHABLE_SENDS;
  const newSessions = options.newSessions ?? NEW_SESSIONS;
  const random = options.random ?? Math.random;
  const wait = { baseMs: options.baseMs ?? 1000, capMs: options.capMs ?? 15_000, random };
  let producer: ProducerSession | null = null;
  let partitions = 0;
  let sessions = 0;
  let fatal: DeliveryFatal | null = null;
  let closed = false;

  async function open() {
    const old = producer;
    producer = null;
    await old?.disconnect().catch(() => {});
    const next = options.newProducer();
    let count: number;
    try {
      await next.connect();
      count = await options.partitions();
    } catch (error) {
      await next.disconnect().catch(() => {});
      throw error;
    }
    if (partitions !== 0 && count !== partitions) {
      await next.disconnect().catch(() => {});
      // Keys would move to other partitions in the middle of the run, where a
      // compacted topic keeps their old values for good.
      throw new PartitionCountChanged(options.topic, partitions, count);
    }
    partitions = count;
    producer = next;
    sessions++;
  }

  async function send(batch: readonly StreamRecord[]) {
    let pending = [...batch];
    let groups: Map<number, StreamRecord[]> | null = null;
    let unreachable = 0;
    let replaced = 0;
    let kind: string | undefined;
    for (;;) {
      if (closed) {
        throw new DeliveryError(new Error("the delivery is closed"), pending.length, null);
      }
      let errors: unknown[];
      if (producer === null) {
        // No session, or the last one's sequence numbers can no longer be trusted.
        errors = await open().then(() => [], (error) => [error]);
        groups = null;
        if (errors.length === 0) continue;
      } else {
        groups ??= groupByPartition(pending, partitions);
        const current: ProducerSession = producer;
        const entries = [...groups];
        const results = await Promise.allSettled(
          entries.map(([partition, records]) =>
            current.send({
              topic: options.topic,
              acks: -1,
              messages: records.map((r) => toMessage(r, partition)),
            })
          ),
        );
        errors = [];
        results.forEach((result, i) => {
          const partition = entries[i][0];
          if (result.status === "rejected") errors.push(result.reason);
          else if (acknowledges(result.value, partition)) groups!.delete(partition);
          else errors.push(new Error(`Kafka did not acknowledge partition ${partition}`));
        });
        pending = [...groups.values()].flat();
        if (errors.length === 0) {
          fatal = null;
          return;
        }
      }
      kind = errors.map(fatalProducerError).find((k) => k !== null) ?? kind;
      if (errors.some((e) => e instanceof PartitionCountChanged)) {
        kind = PartitionCountChanged.kind;
        replaced = newSessions;
      }
      if (errors.every(resendable) && unreachable + 1 < unreachableSends) {
        // Same producer, same records: their rewound sequence numbers let the
        // broker drop whatever part of them it already wrote.
        unreachable++;
        const waitMs = backoffDelay(unreachable, wait);
        log.warn(
          "Kafka unreachable while producing ({error}); sending {records} records again in {waitMs} ms (attempt {attempt} of {attempts})",
          {
            error: (errors[0] as Error).message,
            records: pending.length,
            waitMs,
            attempt: unreachable + 1,
            attempts: unreachableSends,
          },
        );
        await sleep(waitMs);
        continue;
      }
      if (replaced >= newSessions) {
        const cause = errors.find((e) => fatalProducerError(e) === kind) ?? errors[0];
        fatal = kind === undefined ? null : { kind, message: (cause as Error).message };
        // The next batch starts with a new session: this one's numbers are spoilt.
        await producer?.disconnect().catch(() => {});
        producer = null;
        throw new DeliveryError(errors[0], pending.length, fatal);
      }
      replaced++;
      unreachable = 0;
      const waitMs = backoffDelay(replaced, wait);
      log.warn(
        "Replacing the Kafka producer ({error}); sending the {records} unacknowledged records again with a new session in {waitMs} ms (session {session} of {sessions})",
        {
          error: (errors[0] as Error).message,
          records: pending.length,
          waitMs,
          session: replaced,
          sessions: newSessions,
        },
      );
      await producer?.disconnect().catch(() => {});
      producer = null;
      await sleep(waitMs);
    }
  }

  return {
    // The scan's batcher and the watchlist share the producer.
    send: oneAtATime(send),
    get fatal() {
      return fatal;
    },
    get sessions() {
      return sessions;
    },
    async connect() {
      if (producer === null) await open();
    },
    async close() {
      closed = true;
      const current = producer;
      producer = null;
      await current?.disconnect().catch(() => {});
    },
  };
}
