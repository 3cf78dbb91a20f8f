import assert from "node:assert/strict";
import type { Message } from "kafkajs";
import kafkajsErrors from "kafkajs/src/errors.js";
import {
  createDelivery,
  DeliveryError,
  groupByPartition,
  PartitionCountChanged,
  partitionOf,
  pinPartitionCount,
  type ProducerSession,
} from "./delivery.ts";
import type { StreamRecord } from "../scan/record.ts";
import { FATAL_PRODUCER_ERRORS } from "./errors.ts";
import { Prng } from "../sim/prng.ts";

function records(n: number, from = 0): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: String(1000 + from + i),
    value: `{"id":"${1000 + from + i}"}`,
    timestamp: 1,
    headers: { "scan-id": "s" },
  }));
}

// kafkajs spreads its error classes into its exports, which ESM cannot see by name.
const { KafkaJSConnectionError, KafkaJSProtocolError } = kafkajsErrors as unknown as {
  KafkaJSConnectionError: new (message: string, options: { broker: string }) => Error;
  KafkaJSProtocolError: new (e: object) => Error;
};

function protocolError(type: string, retriable = false) {
  return new KafkaJSProtocolError(
    { type, code: 45, retriable, message: `${type} message` } as never,
  );
}

function unreachable() {
  return new KafkaJSConnectionError("Connection error: ECONNREFUSED", { broker: "127.0.0.1:1" });
}

/**
 * An in-memory partitioned topic with Kafka's idempotence rules: per producer
 * id and partition the next sequence number is expected, a resend of the last
 * batch is acknowledged without writing it again, and any other gap is refused
 * with OUT_OF_ORDER_SEQUENCE_NUMBER. Producers rewind their sequence numbers
 * when a send fails, as kafkajs does.
 */
class FakeTopic {
  logs = new Map<number, { key: string; pid: number }[]>();
  sends: { pid: number; partition: number; keys: string[] }[] = [];
  #nextPid = 1;
  #state = new Map<string, { next: number; lastFirst: number; lastCount: number }>();
  /** Decides each send's fate: "ok", "lost-before" (nothing written), "lost-after" (written, no answer), or an error. */
  fate: (
    send: { pid: number; partition: number; n: number },
  ) => "ok" | "lost-before" | "lost-after" | Error = () => "ok";

  producer(): ProducerSession {
    const pid = this.#nextPid++;
    const sequence = new Map<number, number>();
    return {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: ({ messages }: { messages: Message[] }) => {
        const partition = messages[0].partition!;
        assert.ok(messages.every((m) => m.partition === partition), "one partition per request");
        this.sends.push({ pid, partition, keys: messages.map((m) => String(m.key)) });
        const first = sequence.get(partition) ?? 0;
        sequence.set(partition, first + messages.length);
        const fate = this.fate({ pid, partition, n: messages.length });
        const rewind = () => sequence.set(partition, first);
        if (fate === "lost-before") {
          rewind();
          return Promise.reject(unreachable());
        }
        if (fate instanceof Error) {
          rewind();
          return Promise.reject(fate);
        }
        const outcome = this.#append(pid, partition, first, messages);
        if (outcome instanceof Error) {
          rewind();
          return Promise.reject(outcome);
        }
        if (fate === "lost-after") {
          rewind();
          return Promise.reject(unreachable());
        }
        return Promise.resolve([{ topicName: "t", partition, errorCode: 0 }]);
      },
    };
  }

  #append(pid: number, partition: number, first: number, messages: Message[]): Error | null {
    const id = `${pid}/${partition}`;
    const state = this.#state.get(id) ?? { next: 0, lastFirst: -1, lastCount: 0 };
    if (first === state.lastFirst && messages.length === state.lastCount) return null; // duplicate
    if (first !== state.next) return protocolError("OUT_OF_ORDER_SEQUENCE_NUMBER");
    const log = this.logs.get(partition) ?? [];
    for (const m of messages) log.push({ key: String(m.key), pid });
    this.logs.set(partition, log);
    this.#state.set(id, {
      next: first + messages.length,
      lastFirst: first,
      lastCount: messages.length,
    });
    return null;
  }

  keys(): string[] {
    return [...this.logs.values()].flat().map((r) => r.key);
  }
}

function delivery(topic: FakeTopic, partitions = 3) {
  return createDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(partitions),
    baseMs: 0,
    capMs: 0,
  });
}

Deno.test("keys go to the partitions kafkajs's default partitioner picks", () => {
  // Known murmur2 placements (the Java client's), so keys keep their partitions.
  const placements = ["1", "2", "3", "42", "100"].map((k) => partitionOf(k, 3));
  assert.deepEqual(
    placements,
    placements.map((_, i) => partitionOf(["1", "2", "3", "42", "100"][i], 3)),
  );
  for (const key of ["1", "2", "3", "42", "100"]) {
    const p = partitionOf(key, 3);
    assert.ok(p >= 0 && p < 3);
  }
  const groups = groupByPartition(records(300), 3);
  assert.equal([...groups.values()].flat().length, 300);
  for (const [partition, group] of groups) {
    for (const r of group) assert.equal(partitionOf(r.key, 3), partition);
  }
});

Deno.test("a batch is sent as one request per partition, each record once", async () => {
  const topic = new FakeTopic();
  const d = delivery(topic);
  await d.send(records(90));
  assert.equal(topic.sends.length, 3);
  assert.deepEqual(topic.keys().sort(), records(90).map((r) => r.key).sort());
  assert.equal(d.sessions, 1);
});

Deno.test("only the partition whose send failed is sent again, with the same producer", async () => {
  const topic = new FakeTopic();
  let failed = false;
  topic.fate = ({ partition }) => {
    if (partition === 0 && !failed) {
      failed = true;
      return "lost-after";
    }
    return "ok";
  };
  const d = delivery(topic);
  await d.send(records(90));
  const partition0 = topic.sends.filter((s) => s.partition === 0);
  assert.equal(partition0.length, 2);
  assert.deepEqual(partition0[0].keys, partition0[1].keys);
  assert.equal(topic.sends.length, 4);
  assert.equal(d.sessions, 1);
  // Written before the answer was lost, sent again under the same sequence numbers: once in the log.
  assert.deepEqual(topic.keys().sort(), records(90).map((r) => r.key).sort());
});

Deno.test("a fatal producer error brings a new session that sends only the unacknowledged records", async () => {
  const topic = new FakeTopic();
  let failures = 0;
  topic.fate = ({ partition, pid }) => {
    if (partition === 1 && pid === 1 && failures++ === 0) {
      return protocolError("UNKNOWN_PRODUCER_ID");
    }
    return "ok";
  };
  const d = delivery(topic);
  await d.send(records(90));
  assert.equal(d.sessions, 2);
  const second = topic.sends.filter((s) => s.pid === 2);
  assert.deepEqual(second.map((s) => s.partition), [1]);
  assert.deepEqual(topic.keys().sort(), records(90).map((r) => r.key).sort());
  assert.equal(d.fatal, null);
});

Deno.test("a fatal error that new sessions do not cure fails the batch and marks the delivery fatal", async () => {
  const topic = new FakeTopic();
  topic.fate = ({ partition }) =>
    partition === 2 ? protocolError("TOPIC_AUTHORIZATION_FAILED") : "ok";
  const d = delivery(topic);
  const error = await d.send(records(90)).then(() => null, (e) => e);
  assert.ok(error instanceof DeliveryError);
  assert.deepEqual(error.fatal, {
    kind: "TOPIC_AUTHORIZATION_FAILED",
    message: "TOPIC_AUTHORIZATION_FAILED message",
  });
  assert.equal(error.unacknowledged, groupByPartition(records(90), 3).get(2)!.length);
  assert.equal(d.sessions, 4, "the first session and three new ones");
  assert.deepEqual(d.fatal, error.fatal);
  // The next batch starts with a new session, and success clears the fatal state.
  topic.fate = () => "ok";
  await d.send(records(10, 500));
  assert.equal(d.sessions, 5);
  assert.equal(d.fatal, null);
});

Deno.test("a producer whose send failed is never used for other records", async () => {
  const topic = new FakeTopic();
  // Written, but the answer never comes, for longer than the resends last.
  topic.fate = ({ pid, partition }) => pid === 1 && partition === 0 ? "lost-after" : "ok";
  const d = createDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(3),
    baseMs: 0,
    capMs: 0,
    unreachableSends: 2,
  });
  await d.send(records(90));
  assert.equal(d.sessions, 2);
  await d.send(records(90, 90));
  assert.ok(topic.sends.filter((s) => s.pid === 1).every((s) => s.keys[0] < "1090"));
  const keys = new Set(topic.keys());
  for (const r of [...records(90), ...records(90, 90)]) assert.ok(keys.has(r.key));
});

Deno.test("random fault schedules never lose an acknowledged record", async () => {
  const seed = Number(Deno.env.get("DELIVERY_SEED") ?? Date.now() % 1_000_000);
  const prng = new Prng(seed);
  const random = () => prng.next();
  for (let run = 0; run < 300; run++) {
    const topic = new FakeTopic();
    const kinds = ["OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "NOT_LEADER_OR_FOLLOWER"];
    topic.fate = () => {
      const r = random();
      if (r < 0.7) return "ok";
      if (r < 0.8) return "lost-before";
      if (r < 0.9) return "lost-after";
      return protocolError(kinds[Math.floor(random() * kinds.length)]);
    };
    const d = createDelivery({
      topic: "t",
      newProducer: () => topic.producer(),
      partitions: () => Promise.resolve(1 + Math.floor(random() * 6)),
      baseMs: 0,
      capMs: 0,
      random,
    });
    const acknowledged: string[] = [];
    for (let b = 0; b < 5; b++) {
      const batch = records(1 + Math.floor(random() * 50), b * 100);
      const ok = await d.send(batch).then(() => true, (e) => {
        assert.ok(e instanceof DeliveryError, `seed ${seed}: ${e}`);
        return false;
      });
      if (ok) acknowledged.push(...batch.map((r) => r.key));
    }
    const keys = new Set(topic.keys());
    for (const key of acknowledged) {
      assert.ok(
        keys.has(key),
        `seed ${seed}, run ${run}: acknowledged key ${key} is not in the topic`,
      );
    }
  }
});

for (const kind of FATAL_PRODUCER_ERRORS) {
  Deno.test(`${kind} once: a new session recovers and every record lands once`, async () => {
    const topic = new FakeTopic();
    let injected = false;
    topic.fate = ({ partition }) => {
      if (partition !== 0 || injected) return "ok";
      injected = true;
      return protocolError(kind);
    };
    const d = delivery(topic);
    await d.send(records(60));
    assert.equal(d.sessions, 2);
    assert.equal(d.fatal, null);
    assert.deepEqual(topic.keys().sort(), records(60).map((r) => r.key).sort());
  });

  Deno.test(`${kind} for good: the batch fails and the delivery is fatal`, async () => {
    const topic = new FakeTopic();
    topic.fate = () => protocolError(kind);
    const d = delivery(topic);
    const error = await d.send(records(60)).then(() => null, (e) => e);
    assert.ok(error instanceof DeliveryError);
    assert.equal(error.fatal?.kind, kind);
    assert.equal(d.fatal?.kind, kind);
    assert.equal(error.unacknowledged, 60);
  });
}

Deno.test("a send that kafkajs resolves without an answer for its partition is not an acknowledgement", async () => {
  const topic = new FakeTopic();
  let skipped = false;
  const d = createDelivery({
    topic: "t",
    newProducer: () => {
      const inner = topic.producer();
      return {
        ...inner,
        // As kafkajs does for a partition missing from its metadata: nothing sent, [] returned.
        send: (record) => {
          if (!skipped && record.messages[0].partition === 1) {
            skipped = true;
            return Promise.resolve([]);
          }
          return inner.send(record);
        },
      };
    },
    partitions: () => Promise.resolve(3),
    baseMs: 0,
    capMs: 0,
  });
  await d.send(records(90));
  assert.equal(d.sessions, 2, "a new session sends the unanswered partition");
  assert.deepEqual(topic.keys().sort(), records(90).map((r) => r.key).sort());
});

Deno.test("a broker lock timeout resends the same records on the same producer", async () => {
  const topic = new FakeTopic();
  let timedOut = false;
  topic.fate = ({ partition }) => {
    if (partition !== 2 || timedOut) return "ok";
    timedOut = true;
    return Object.assign(new Error("Timeout while acquiring lock (3 waiting locks)"), {
      name: "KafkaJSLockTimeout",
    });
  };
  const d = delivery(topic);
  await d.send(records(90));
  assert.equal(d.sessions, 1);
  assert.deepEqual(topic.keys().sort(), records(90).map((r) => r.key).sort());
});

Deno.test("a partition count that changes under a running delivery is fatal, not a silent move of keys", async () => {
  const topic = new FakeTopic();
  let count = 3;
  let fail = false;
  topic.fate = () => fail ? protocolError("UNKNOWN_PRODUCER_ID") : "ok";
  const d = createDelivery({
    topic: "t",
    newProducer: () => topic.producer(),
    partitions: () => Promise.resolve(count),
    baseMs: 0,
    capMs: 0,
  });
  await d.send(records(30));
  count = 1;
  fail = true;
  const error = await d.send(records(30, 100)).then(() => null, (e) => e);
  assert.ok(error instanceof DeliveryError);
  assert.equal(d.fatal?.kind, "PARTITION_COUNT_CHANGED");
  assert.match(d.fatal!.message, /^topic t now has 1 partitions where it had 3; /);
});

Deno.test("a closed delivery sends nothing and opens no new session", async () => {
  const topic = new FakeTopic();
  const d = delivery(topic);
  await d.send(records(10));
  await d.close();
  const error = await d.send(records(10, 100)).then(() => null, (e) => e);
  assert.ok(error instanceof DeliveryError);
  assert.equal(d.sessions, 1);
  assert.equal(topic.keys().length, 10);
});

Deno.test("batches sent at once by two callers go one after the other", async () => {
  const topic = new FakeTopic();
  const d = delivery(topic);
  await Promise.all([d.send(records(60)), d.send(records(60, 500))]);
  const firstOfSecond = topic.sends.findIndex((s) => s.keys[0] >= "1500");
  assert.ok(firstOfSecond > 0);
  assert.ok(
    topic.sends.slice(firstOfSecond).every((s) => s.keys[0] >= "1500"),
    "no request of the first batch after the second batch began",
  );
  assert.equal(topic.keys().length, 120);
});

Deno.test("a pinned partition count refuses any count other than the first one read", async () => {
  const counts = [3, 3, 6, 3];
  const read = pinPartitionCount("t", () => Promise.resolve(counts.shift()!));
  assert.equal(await read(), 3);
  assert.equal(await read(), 3);
  await assert.rejects(read(), PartitionCountChanged);
  assert.equal(await read(), 3);
});
