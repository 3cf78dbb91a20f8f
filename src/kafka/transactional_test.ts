import assert from "node:assert/strict";
import type { Message } from "kafkajs";
import kafkajsErrors from "kafkajs/src/errors.js";
import { DeliveryError, partitionOf, pinPartitionCount } from "./delivery.ts";
import {
  createTransactionalDelivery,
  fencedError,
  type TransactionalProducer,
} from "./transactional.ts";
import type { StreamRecord } from "../scan/record.ts";

const { KafkaJSConnectionError, KafkaJSProtocolError } = kafkajsErrors as unknown as {
  KafkaJSConnectionError: new (message: string, options: { broker: string }) => Error;
  KafkaJSProtocolError: new (e: object) => Error;
};

function protocolError(type: string) {
  return new KafkaJSProtocolError({ type, code: 90, retriable: false, message: type } as never);
}

function unreachable() {
  return new KafkaJSConnectionError("Connection error: ECONNREFUSED", { broker: "127.0.0.1:1" });
}

function records(n: number): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: String(2000 + i),
    value: `{"id":"${2000 + i}"}`,
    timestamp: 1,
    headers: { "scan-id": "s" },
  }));
}

/**
 * A topic with transactions as read_committed readers see it: records of a
 * transaction become visible on commit only. Producers share one
 * transactional id: opening a new one (its first transaction) fences the
 * others, whose sends and commits then fail with PRODUCER_FENCED.
 */
class FakeTopic {
  committed: { key: string; partition: number; producer: number }[] = [];
  log: string[] = [];
  epoch = 0;
  /** Decides the fate of each send: "ok" or an error. */
  fate: (send: { producer: number; partition: number }) => "ok" | Error = () => "ok";
  /** Aborts of transactions that sent something fail (the broker is away). */
  failAbort = false;
  /** What a fenced producer's requests are refused with. */
  fencedAs = "PRODUCER_FENCED";
  /** Runs while a producer's fence (its first transaction) is on the wire. */
  duringFence: (producer: number) => Promise<void> = () => Promise.resolve();

  producer(): TransactionalProducer {
    let epoch = -1;
    let open = false;
    const id = this.log.filter((l) => l.startsWith("connect")).length + 1;
    return {
      connect: () => {
        this.log.push(`connect ${id}`);
        return Promise.resolve();
      },
      disconnect: () => {
        this.log.push(`disconnect ${id}`);
        return Promise.resolve();
      },
      transaction: async () => {
        // As kafkajs: one transaction at a time per producer.
        if (open) throw new Error("There is already an ongoing transaction");
        open = true;
        if (epoch < 0) {
          await this.duringFence(id);
          epoch = ++this.epoch;
        }
        const pending: { key: string; partition: number; producer: number }[] = [];
        const fenced = () => epoch !== this.epoch;
        let attempted = false;
        this.log.push(`begin ${id}`);
        return {
          send: (record: { messages: Message[] }) => {
            if (fenced()) return Promise.reject(protocolError(this.fencedAs));
            attempted = true;
            const partition = record.messages[0].partition!;
            const fate = this.fate({ producer: id, partition });
            if (fate !== "ok") return Promise.reject(fate);
            for (const m of record.messages) {
              pending.push({ key: String(m.key), partition, producer: id });
            }
            return Promise.resolve([{ topicName: "t", partition, errorCode: 0 }]);
          },
          commit: () => {
            if (fenced()) return Promise.reject(protocolError(this.fencedAs));
            open = false;
            this.committed.push(...pending);
            this.log.push(`commit ${id}`);
            return Promise.resolve();
          },
          abort: () => {
            if (this.failAbort && attempted) return Promise.reject(unreachable());
            open = false;
            this.log.push(`abort ${id}`);
            return Promise.resolve();
          },
        };
      },
    };
  }
}

function delivery(topic: FakeTopic, mayWrite = () => true) {
  return createTransactionalDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(3),
    mayWrite,
    baseMs: 1,
    capMs: 2,
  });
}

Deno.test("a batch is one transaction, one request per partition, visible on commit", async () => {
  const topic = new FakeTopic();
  const sent: number[] = [];
  topic.fate = ({ partition }) => {
    sent.push(partition);
    return "ok";
  };
  const d = delivery(topic);
  await d.connect();
  await d.send(records(30));
  assert.deepEqual(topic.committed.map((r) => r.key).sort(), records(30).map((r) => r.key));
  for (const r of topic.committed) assert.equal(r.partition, partitionOf(r.key, 3));
  assert.deepEqual([...sent].sort(), [0, 1, 2]);
  // The empty transaction at connect initialises the producer id (the fence), then the batch's.
  assert.deepEqual(topic.log, ["connect 1", "begin 1", "abort 1", "begin 1", "commit 1"]);
});

Deno.test("a failed transaction is aborted and the whole batch sent again by a new session, each record once", async () => {
  const topic = new FakeTopic();
  let failures = 1;
  topic.fate = ({ partition }) => partition === 2 && failures-- > 0 ? unreachable() : "ok";
  const d = delivery(topic);
  await d.send(records(30));
  const keys = topic.committed.map((r) => r.key).sort();
  assert.deepEqual(keys, records(30).map((r) => r.key));
  // Even after an abort that went through: in the same epoch the broker could take the resent
  // records, under their rewound sequence numbers, for duplicates of the aborted ones.
  assert.equal(d.sessions, 2, "a new session (a new epoch) sends the batch again");
});

Deno.test("when the abort fails too, a new session sends the batch", async () => {
  const topic = new FakeTopic();
  let failures = 1;
  topic.fate = () => failures-- > 0 ? unreachable() : "ok";
  topic.failAbort = true;
  const d = delivery(topic);
  await d.send(records(10));
  assert.equal(d.sessions, 2);
  assert.deepEqual(topic.committed.map((r) => r.producer), Array(10).fill(2));
});

Deno.test("a fenced producer loses leadership: nothing more is sent and no new session fences the new leader", async () => {
  const topic = new FakeTopic();
  const old = delivery(topic);
  await old.send(records(5));
  const successor = delivery(topic);
  await successor.connect();
  await assert.rejects(old.send(records(5)), DeliveryError);
  assert.equal(old.lostLeadership, true);
  assert.equal(old.fatal, null, "fencing is not a producer fault");
  await assert.rejects(old.send(records(5)), /no longer leads/);
  assert.equal(old.sessions, 1, "the old instance opened no new session");
  await successor.send(records(3));
  assert.deepEqual(topic.committed.map((r) => r.producer), [1, 1, 1, 1, 1, 2, 2, 2]);
});

Deno.test("an instance that no longer leads sends nothing, not even a new session", async () => {
  const topic = new FakeTopic();
  let leading = true;
  const d = delivery(topic, () => leading);
  await d.send(records(4));
  leading = false;
  await assert.rejects(d.send(records(4)), /no longer leads/);
  assert.equal(d.lostLeadership, true);
  assert.equal(topic.committed.length, 4);
  assert.deepEqual(topic.log.at(-1), "disconnect 1");
});

Deno.test("fatal errors that new sessions do not cure fail the batch and are reported", async () => {
  const topic = new FakeTopic();
  topic.fate = () => protocolError("TOPIC_AUTHORIZATION_FAILED");
  const d = delivery(topic);
  const error = await d.send(records(3)).catch((e) => e);
  assert.ok(error instanceof DeliveryError);
  assert.deepEqual(d.fatal?.kind, "TOPIC_AUTHORIZATION_FAILED");
  assert.equal(d.sessions, 4, "the first session and three new ones");
  assert.equal(d.lostLeadership, false);
});

Deno.test("PRODUCER_FENCED and INVALID_PRODUCER_EPOCH mean fenced; others do not", () => {
  assert.equal(fencedError(protocolError("PRODUCER_FENCED")), "PRODUCER_FENCED");
  assert.equal(fencedError(protocolError("INVALID_PRODUCER_EPOCH")), "INVALID_PRODUCER_EPOCH");
  assert.equal(fencedError(protocolError("TOPIC_AUTHORIZATION_FAILED")), null);
  assert.equal(fencedError(unreachable()), null);
});

Deno.test("two callers' batches at once are two transactions, one after the other", async () => {
  const topic = new FakeTopic();
  const d = delivery(topic);
  await Promise.all([d.send(records(30)), d.send(records(5))]);
  assert.equal(d.sessions, 1, "no transaction was refused, so no new session");
  assert.equal(d.lostLeadership, false);
  assert.equal(topic.committed.length, 35);
});

Deno.test("an instance that no longer leads raises no fence when its term opens", async () => {
  const topic = new FakeTopic();
  const d = delivery(topic, () => false);
  await assert.rejects(d.connect(), /no longer leads/);
  assert.deepEqual(topic.log.filter((l) => l.startsWith("begin")), []);
});

Deno.test("a fence that lands after the lease ran out commits nothing over the newer term", async () => {
  const topic = new FakeTopic();
  let leading = true;
  const old = delivery(topic, () => leading);
  const successor = delivery(topic);
  // While the old leader's fence is on the wire its lease runs out, and the new leader fences.
  topic.duringFence = async (producer) => {
    if (producer !== 1) return;
    leading = false;
    await successor.connect();
  };
  await assert.rejects(old.send(records(5)), /no longer leads/);
  assert.equal(old.lostLeadership, true);
  assert.deepEqual(topic.committed, [], "the deposed leader committed nothing");
});

Deno.test("a lease that runs out while the batch is sent stops its commit", async () => {
  const topic = new FakeTopic();
  let leading = true;
  topic.fate = () => {
    leading = false;
    return "ok";
  };
  const d = delivery(topic, () => leading);
  await assert.rejects(d.send(records(5)), /no longer leads/);
  assert.equal(d.lostLeadership, true);
  assert.deepEqual(topic.committed, []);
  assert.deepEqual(topic.log.slice(-2), ["abort 1", "disconnect 1"]);
});

Deno.test("a send that wakes up after close opens no producer that would fence the next term", async () => {
  const topic = new FakeTopic();
  let failures = 1;
  topic.fate = () => failures-- > 0 ? unreachable() : "ok";
  const d = createTransactionalDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(3),
    mayWrite: () => true,
    baseMs: 200,
    capMs: 200,
    random: () => 0.99,
  });
  await d.connect();
  const pending = d.send(records(2)).catch((e) => e);
  // The broker is away: the send waits ~200 ms before a new session; meanwhile the term ends.
  const aborts = () => topic.log.filter((l) => l === "abort 1").length;
  // The fence's empty transaction is the first abort, the failed batch's the second.
  while (aborts() < 2) await new Promise((r) => setTimeout(r, 1));
  await d.close();
  const next = delivery(topic);
  await next.connect();
  const error = await pending;
  assert.ok(error instanceof DeliveryError);
  assert.match(error.message, /closed/);
  assert.deepEqual(topic.log.filter((l) => l.startsWith("connect")), ["connect 1", "connect 2"]);
  await next.send(records(3));
  assert.equal(next.lostLeadership, false, "the next term was not fenced");
});

Deno.test("a partition count changed during a term is fatal, as with HA=off", async () => {
  const topic = new FakeTopic();
  let count = 3;
  let failures = 1;
  topic.fate = () => failures-- > 0 ? unreachable() : "ok";
  const d = createTransactionalDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(count),
    mayWrite: () => true,
    baseMs: 1,
    capMs: 1,
  });
  await d.connect();
  count = 6; // grown by an operator; the broker hiccup makes a new session read it
  const error = await d.send(records(4)).catch((e) => e);
  assert.ok(error instanceof DeliveryError);
  assert.equal(error.fatal?.kind, "PARTITION_COUNT_CHANGED");
  assert.equal(d.fatal?.kind, "PARTITION_COUNT_CHANGED");
  assert.equal(d.lostLeadership, false);
  assert.deepEqual(topic.committed, []);
});

Deno.test("the next term does not adopt a changed partition count: its first batch fails fatally", async () => {
  const topic = new FakeTopic();
  let count = 3;
  const partitions = pinPartitionCount("t", () => Promise.resolve(count));
  const term = () =>
    createTransactionalDelivery({
      topic: "t",
      newProducer: () => topic.producer(),
      partitions,
      mayWrite: () => true,
      baseMs: 1,
      capMs: 1,
    });
  const first = term();
  await first.send(records(2));
  await first.close();
  count = 6;
  const second = term();
  await second.connect();
  const error = await second.send(records(2)).catch((e) => e);
  assert.ok(error instanceof DeliveryError);
  assert.equal(error.fatal?.kind, "PARTITION_COUNT_CHANGED");
  assert.match(error.message, /now has 6 partitions where it had 3/);
  assert.equal(topic.committed.length, 2, "only the first term's batch");
});

Deno.test("a transaction past transaction.timeout.ms is not taken for another leader: sent again, still leading", async () => {
  const topic = new FakeTopic();
  let clock = 0;
  let sends = 0;
  topic.fate = () => {
    // The first send is stuck in retries for 61 s; the coordinator aborts the transaction.
    if (sends++ === 0) {
      clock += 61_000;
      topic.epoch++;
      topic.fencedAs = "INVALID_PRODUCER_EPOCH";
    }
    return "ok";
  };
  const d = createTransactionalDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(3),
    mayWrite: () => true,
    transactionTimeoutMs: 60_000,
    now: () => clock,
    baseMs: 1,
    capMs: 1,
  });
  await d.send(records(10));
  assert.equal(d.lostLeadership, false, "no step-down: nobody else leads");
  assert.equal(d.sessions, 2);
  assert.deepEqual(topic.committed.map((r) => r.producer), Array(10).fill(2));
});

Deno.test("a transaction older than half of transaction.timeout.ms is not committed but sent again in a new one", async () => {
  const topic = new FakeTopic();
  let clock = 0;
  let sends = 0;
  topic.fate = () => {
    if (sends++ === 0) clock += 31_000;
    return "ok";
  };
  const d = createTransactionalDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(3),
    mayWrite: () => true,
    transactionTimeoutMs: 60_000,
    now: () => clock,
    baseMs: 1,
    capMs: 1,
  });
  await d.send(records(10));
  assert.equal(d.sessions, 2);
  assert.deepEqual(topic.committed.map((r) => r.producer), Array(10).fill(2));
});

Deno.test("fenced after a short transaction is a loss of leadership, even while the lease holds", async () => {
  const topic = new FakeTopic();
  const d = delivery(topic);
  await d.connect();
  topic.epoch++; // another producer of the same id fenced this one
  await assert.rejects(d.send(records(3)), DeliveryError);
  assert.equal(d.lostLeadership, true);
});
