/**
 * Fencing on a real broker, below the election: two transactional
 * deliveries of one topic, as a paused old leader and its successor. The
 * successor's first transaction fences the old producer, the broker rejects
 * the old one's writes (also a transaction it had open), the old delivery
 * reports lost leadership without opening a session that would fence the
 * successor, and a read_committed reader sees none of the rejected records.
 */

import assert from "node:assert/strict";
import { createKafka, kafkaClientConfig, kafkaTransactionalDelivery } from "../src/kafka/client.ts";
import { DeliveryError } from "../src/kafka/delivery.ts";
import { createTransactionalDelivery, fencedError } from "../src/kafka/transactional.ts";
import { transactionalId } from "../src/kafka/leader.ts";
import { Partitioners } from "kafkajs";
import type { StreamRecord } from "../src/scan/record.ts";
import { createTopic, readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { parseConfig } from "../src/config/config.ts";

function batch(scanId: string, from: number, n: number): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: String(from + i),
    value: `{"id":"${from + i}"}`,
    timestamp: Date.now(),
    headers: { "scan-id": scanId },
  }));
}

Deno.test("a successor's producer fences the old one: its writes are rejected and never read", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("fence");
  await createTopic(broker.bootstrap, topic, { partitions: 3 });
  const config = parseConfig({ SOURCE: "simulated", KAFKA_BROKERS: broker.bootstrap });
  const kafka = createKafka(await kafkaClientConfig(config.kafka));

  const old = kafkaTransactionalDelivery(kafka, topic, () => true);
  await old.send(batch("old-1", 100, 30));
  const successor = kafkaTransactionalDelivery(kafka, topic, () => true);
  try {
    await successor.connect();
    const error = await old.send(batch("old-2", 200, 30)).catch((e) => e);
    assert.ok(error instanceof DeliveryError, String(error));
    assert.equal(old.lostLeadership, true, `fenced, not failed: ${error.message}`);
    const kind = fencedError(error.cause);
    console.log(`the old producer's send was rejected with ${kind}`);
    assert.ok(kind === "PRODUCER_FENCED" || kind === "INVALID_PRODUCER_EPOCH", String(kind));
    assert.equal(old.fatal, null);
    assert.equal(old.sessions, 1, "the old delivery opened no new session");
    await successor.send(batch("new-1", 300, 30));
    // Had the old delivery opened a session, this send would have been fenced in turn.
    await successor.send(batch("new-2", 400, 30));
  } finally {
    await old.close();
    await successor.close();
  }
  const records = await readTopic(broker.bootstrap, topic);
  const perScan = new Map<string, number>();
  for (const r of records) {
    perScan.set(r.headers["scan-id"], (perScan.get(r.headers["scan-id"]) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(perScan), { "old-1": 30, "new-1": 30, "new-2": 30 });
});

Deno.test("a transaction left open by a paused leader is aborted by the successor's fence, its commit rejected", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("fence-open");
  await createTopic(broker.bootstrap, topic, { partitions: 3 });
  const config = parseConfig({ SOURCE: "simulated", KAFKA_BROKERS: broker.bootstrap });
  const kafka = createKafka(await kafkaClientConfig(config.kafka));
  const newProducer = () =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      transactionalId: transactionalId(topic),
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  // The old leader "pauses" after its records reached the broker, before the commit.
  const sent = Promise.withResolvers<void>();
  const resume = Promise.withResolvers<void>();
  const old = createTransactionalDelivery({
    topic,
    partitions: () => Promise.resolve(3),
    mayWrite: () => true,
    newProducer() {
      const producer = newProducer();
      return {
        connect: () => producer.connect(),
        disconnect: () => producer.disconnect(),
        async transaction() {
          const transaction = await producer.transaction();
          return {
            send: (record) => transaction.send(record),
            abort: () => transaction.abort(),
            async commit() {
              sent.resolve();
              await resume.promise;
              await transaction.commit();
            },
          };
        },
      };
    },
  });
  await old.connect();
  const sending = old.send(batch("old-open", 100, 30)).catch((e) => e);
  await sent.promise;
  const successor = kafkaTransactionalDelivery(kafka, topic, () => true);
  try {
    await successor.connect();
    resume.resolve();
    const error = await sending;
    assert.ok(error instanceof DeliveryError, String(error));
    assert.equal(old.lostLeadership, true, error.message);
    await successor.send(batch("new-1", 300, 30));
  } finally {
    await old.close();
    await successor.close();
  }
  const records = await readTopic(broker.bootstrap, topic);
  assert.deepEqual([...new Set(records.map((r) => r.headers["scan-id"]))], ["new-1"]);
  assert.equal(records.length, 30);
  // The old leader's records did reach the log: the abort, not their absence, hides them.
  const everything = await readTopic(broker.bootstrap, topic, {
    config: { "isolation.level": "read_uncommitted" },
  });
  assert.equal(everything.filter((r) => r.headers["scan-id"] === "old-open").length, 30);
});
