/**
 * Delivery in transactions, one per batch, for instances that share a topic
 * under leader election: the producer's `transactional.id` is the topic's, so
 * a new leader's first transaction fences every older producer, and a
 * former leader that was paused or cut off cannot write once it lost
 * leadership.
 *
 * It keeps the rules of the plain delivery (see `delivery.ts`): one request
 * per partition, so that kafkajs's multi-partition retry cannot skip a
 * partition; and a producer whose send failed is not trusted with other
 * records. A failed transaction is aborted and the whole batch is sent again
 * in a new one, always by a new producer session (same `transactional.id`,
 * new epoch): kafkajs rewinds the sequence numbers of a failed request that
 * the broker may have written, and within the same epoch the broker would
 * drop the resent records as duplicates of ones the abort made invisible.
 * Aborted records are invisible to read_committed readers, so they see each
 * record once. A new session also aborts a transaction left open.
 *
 * Fencing (`PRODUCER_FENCED`, `INVALID_PRODUCER_EPOCH`) is not a failure of
 * the producer but the loss of leadership: the delivery stops for good and
 * reports {@link TransactionalDelivery.lostLeadership}; it never opens a new
 * session, which would fence the new leader in turn. Nor does it open one, or
 * begin a transaction, while `mayWrite()` says this instance no longer leads;
 * and it asks again after its own fence and before every commit: a fence can
 * land late, and only a lease still valid after it proves that no newer term
 * has begun (a newer leader is elected only once this lease has run out).
 * Once closed (its term ended), a delivery opens no producer again.
 *
 * A transaction is committed only while younger than half the producer's
 * `transaction.timeout.ms`; an older one is sent again in a new transaction.
 * The coordinator aborts one that outlives the timeout and bumps the epoch,
 * so that the next request is refused as fenced: while the lease holds, that
 * is a timeout, not another leader, and the batch goes again in a new session.
 *
 * @module
 */

import type { Message } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import type { StreamRecord } from "../scan/record.ts";
import { fatalProducerError, isUnreachable } from "./errors.ts";
import { backoffDelay, sleep } from "../util/retry.ts";
import {
  acknowledges,
  type Delivery,
  DeliveryError,
  type DeliveryFatal,
  groupByPartition,
  NEW_SESSIONS,
  oneAtATime,
  PartitionCountChanged,
  toMessage,
  UNREACHABLE_SENDS,
} from "./delivery.ts";

const log = getLogger(["datagen", "kafka"]);

/**
 * The producer's `transaction.timeout.ms`: the coordinator aborts a transaction open longer
 * than this (and bumps the epoch, so that the producer's next request is refused as fenced).
 */
export const TRANSACTION_TIMEOUT_MS = 60_000;

/** Kafka errors that mean another producer with the same `transactional.id` took over. */
export const FENCED_ERRORS: readonly string[] = ["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"];

/** One open transaction of a kafkajs producer. */
export interface TransactionSession {
  send(record: { topic: string; acks: number; messages: Message[] }): Promise<unknown>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** What transactional delivery needs of a kafkajs producer. */
export interface TransactionalProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Begins a transaction; the first one of a producer fences older ones (initTransactions). */
  transaction(): Promise<TransactionSession>;
}

/** Settings and edges of {@link createTransactionalDelivery}. */
export interface TransactionalOptions {
  topic: string;
  /** Creates a producer with the topic's `transactional.id`. */
  newProducer: () => TransactionalProducer;
  /** Reads the topic's partition count (whenever a session opens). */
  partitions: () => Promise<number>;
  /** Whether this instance still leads; checked before every session and transaction. */
  mayWrite: () => boolean;
  /** Transactions of the same batch while the broker cannot be reached (default {@link UNREACHABLE_SENDS}). */
  unreachableSends?: number;
  /** New sessions tried for one batch before it fails (default {@link NEW_SESSIONS}). */
  newSessions?: number;
  /**
   * The producer's `transaction.timeout.ms` (default {@link TRANSACTION_TIMEOUT_MS}). A
   * transaction is committed only while younger than half of it, else sent again in a new one.
   */
  transactionTimeoutMs?: number;
  /** Monotonic clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Waits between attempts (default a timer); tests pass their own scheduler. */
  sleep?: (ms: number) => Promise<void>;
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

/** A delivery that can lose its right to write. */
export interface TransactionalDelivery extends Delivery {
  /** Set once the producer was fenced or the instance stopped leading; nothing is sent after. */
  readonly lostLeadership: boolean;
}

/** This instance's lease ran out: it must neither fence nor commit. */
export class NoLongerLeads extends Error {
  constructor() {
    super("this instance no longer leads");
    this.name = "NoLongerLeads";
  }
}

/** A transaction ran too long to be committed safely before the coordinator's timeout. */
export class TransactionTooLong extends Error {
  constructor(elapsedMs: number, budgetMs: number) {
    super(
      `the transaction has run ${
        Math.round(elapsedMs)
      } ms, more than the ${budgetMs} ms allowed before its commit`,
    );
    this.name = "TransactionTooLong";
  }
}

/** The delivery's term ended: it sends nothing more. */
export class DeliveryClosed extends Error {
  constructor() {
    super("the delivery is closed: its term of leadership ended");
    this.name = "DeliveryClosed";
  }
}

/** The fencing error type in an error's cause chain, or null. */
export function fencedError(error: unknown): string | null {
  const kind = fatalProducerError(error);
  return kind !== null && FENCED_ERRORS.includes(kind) ? kind : null;
}

/** Creates the delivery; its first session opens (and fences older producers) on `connect`. */
export function createTransactionalDelivery(options: TransactionalOptions): TransactionalDelivery {
  const unreachableSends = options.unreachableSends ?? UNREACHABLE_SENDS;
  const newSessions = options.newSessions ?? NEW_SESSIONS;
  const timeoutMs = options.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_MS;
  // Well under the timeout: a commit repeated after a coordinator failover still lands in time.
  const budgetMs = timeoutMs / 2;
  const now = options.now ?? (() => performance.now());
  const pause = options.sleep ?? sleep;
  const wait = {
    baseMs: options.baseMs ?? 1000,
    capMs: options.capMs ?? 15_000,
    random: options.random ?? Math.random,
  };
  let producer: TransactionalProducer | null = null;
  let partitions = 0;
  let sessions = 0;
  let fatal: DeliveryFatal | null = null;
  let lost = false;
  // A term's delivery ends with its term: a send that wakes up after close (queued, or in a
  // backoff) must not open a producer, whose fence would depose this instance's next term.
  let closed = false;

  async function drop() {
    const old = producer;
    producer = null;
    await old?.disconnect().catch(() => {});
  }

  function stepDown(cause: unknown, records: number): never {
    lost = true;
    throw new DeliveryError(cause, records, null);
  }

  async function open() {
    await drop();
    if (closed) throw new DeliveryClosed();
    const next = options.newProducer();
    let count: number;
    try {
      await next.connect();
      // The fence below would depose whoever leads now: only a leader may raise it.
      if (!options.mayWrite()) throw new NoLongerLeads();
      // An empty transaction initialises the producer id: this is the fence.
      await (await next.transaction()).abort();
      // The fence may have landed late (kafkajs retries it for seconds, the process may have
      // been paused): measured now, after it, a lease still valid means no later leader
      // exists yet; a lapsed one means this fence may have deposed a newer term's producer.
      if (!options.mayWrite()) throw new NoLongerLeads();
      count = await options.partitions();
    } catch (error) {
      await next.disconnect().catch(() => {});
      throw error;
    }
    if (closed) {
      await next.disconnect().catch(() => {});
      throw new DeliveryClosed();
    }
    if (partitions !== 0 && count !== partitions) {
      await next.disconnect().catch(() => {});
      throw new PartitionCountChanged(options.topic, partitions, count);
    }
    partitions = count;
    producer = next;
    sessions++;
  }

  async function attempt(batch: readonly StreamRecord[]): Promise<{ aborted: boolean }> {
    const current = producer!;
    const transaction = await current.transaction();
    const began = now();
    const inTime = () => {
      if (now() - began > budgetMs) throw new TransactionTooLong(now() - began, budgetMs);
    };
    try {
      for (const [partition, records] of groupByPartition(batch, partitions)) {
        inTime();
        // One partition a request, one request at a time within the transaction.
        const answer = await transaction.send({
          topic: options.topic,
          acks: -1,
          messages: records.map((r) => toMessage(r, partition)),
        });
        // kafkajs answers nothing, and sends nothing, for a partition its metadata lacks.
        if (!acknowledges(answer, partition)) {
          throw new Error(`Kafka did not acknowledge partition ${partition}`);
        }
      }
      // The sends may have taken long: commit only while no newer term can have fenced.
      if (!options.mayWrite()) throw new NoLongerLeads();
      inTime();
      log.debug("Committing the transaction of {records} records", { records: batch.length });
      await transaction.commit();
      return { aborted: false };
    } catch (error) {
      const aborted = await transaction.abort().then(() => true, () => false);
      throw Object.assign(new Error((error as Error).message, { cause: error }), {
        aborted,
        elapsedMs: now() - began,
      });
    }
  }

  async function send(batch: readonly StreamRecord[]) {
    let unreachable = 0;
    let replaced = 0;
    for (;;) {
      if (closed) throw new DeliveryError(new DeliveryClosed(), batch.length, null);
      if (fatal?.kind === PartitionCountChanged.kind) {
        throw new DeliveryError(new Error(fatal.message), batch.length, fatal);
      }
      if (lost) {
        throw new DeliveryError(new Error("this instance no longer leads"), batch.length, null);
      }
      if (!options.mayWrite()) {
        await drop();
        stepDown(new Error("this instance no longer leads"), batch.length);
      }
      let error: unknown;
      let elapsedMs = 0;
      try {
        if (producer === null) await open();
        await attempt(batch);
        fatal = null;
        return;
      } catch (caught) {
        error = (caught as { cause?: unknown }).cause ?? caught;
        elapsedMs = (caught as { elapsedMs?: number }).elapsedMs ?? 0;
      }
      if (closed) {
        await drop();
        throw new DeliveryError(new DeliveryClosed(), batch.length, null);
      }
      // Refused as fenced after the transaction outlived transaction.timeout.ms, while the
      // lease still holds (so no newer leader exists): the coordinator aborted it, nobody
      // took over. A new session sends the batch again.
      const timedOut = fencedError(error) !== null && elapsedMs >= timeoutMs &&
        options.mayWrite();
      if (timedOut) {
        log.warn(
          "The transaction of {records} records ran {elapsedMs} ms, past transaction.timeout.ms ({timeoutMs} ms), and the coordinator aborted it ({error}); no other instance fenced this one, so it stays leader",
          {
            records: batch.length,
            elapsedMs: Math.round(elapsedMs),
            timeoutMs,
            error: (error as Error).message,
          },
        );
      } else if (fencedError(error) !== null || error instanceof NoLongerLeads) {
        await drop();
        stepDown(error, batch.length);
      }
      if (error instanceof PartitionCountChanged) replaced = newSessions;
      if (isUnreachable(error) && unreachable + 1 < unreachableSends) {
        // Always a new session (a new epoch), even when the abort went through: kafkajs
        // rewinds the sequence numbers of a failed request that the broker may have
        // written, and the same numbers in the same epoch would be dropped as duplicates
        // of records that the abort made invisible.
        await drop();
        unreachable++;
        const waitMs = backoffDelay(unreachable, wait);
        log.warn(
          "Kafka unreachable while producing ({error}); sending the {records} records again in a new transaction of a new session in {waitMs} ms (attempt {attempt} of {attempts})",
          {
            error: (error as Error).message,
            records: batch.length,
            waitMs,
            attempt: unreachable + 1,
            attempts: unreachableSends,
          },
        );
        await pause(waitMs);
        continue;
      }
      if (replaced >= newSessions) {
        const kind = error instanceof PartitionCountChanged
          ? PartitionCountChanged.kind
          : fatalProducerError(error);
        fatal = kind === null ? null : { kind, message: (error as Error).message };
        await drop();
        throw new DeliveryError(error, batch.length, fatal);
      }
      replaced++;
      unreachable = 0;
      const waitMs = backoffDelay(replaced, wait);
      log.warn(
        "Replacing the Kafka producer ({error}); sending the {records} records again in a new transaction with a new session in {waitMs} ms (session {session} of {sessions})",
        {
          error: (error as Error).message,
          records: batch.length,
          waitMs,
          session: replaced,
          sessions: newSessions,
        },
      );
      await drop();
      await pause(waitMs);
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
    get lostLeadership() {
      return lost;
    },
    async connect() {
      if (producer !== null) return;
      try {
        await open();
      } catch (error) {
        if (!(error instanceof PartitionCountChanged)) throw error;
        // The term goes on so that its first batch fails with this fatal error, and the
        // service exits as with HA=off; retrying the term would never cure it.
        fatal = { kind: PartitionCountChanged.kind, message: error.message };
      }
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}
