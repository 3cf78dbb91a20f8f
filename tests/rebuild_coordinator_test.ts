/**
 * The start-up rebuild against a real broker whose group coordinator is
 * still loading: the first JoinGroup requests of the rebuild's consumer are
 * answered COORDINATOR_LOAD_IN_PROGRESS on the wire (as a broker answers
 * while it loads `__consumer_offsets`, seconds after its first start), and
 * the rebuild still ends with the exact live set once the coordinator
 * answers.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { createTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { refuseJoins } from "./support/kafka_wire.ts";
import { readLiveState } from "../src/kafka/rebuild.ts";

const STARTED = Date.UTC(2026, 0, 1);

function value(id: string, userId: string): string {
  return JSON.stringify({ id, user_id: userId, started_at: "2026-01-01T00:00:00Z" });
}

Deno.test("a rebuild whose group coordinator is loading for several joins completes once it is ready", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("rebuild-loading");
  await createTopic(broker.bootstrap, topic, { partitions: 3 });
  const plain = new Kafka({ clientId: "test-writer", brokers: broker.brokers, logLevel: 0 });
  const producer = plain.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: [
        { key: "1", value: value("1", "11"), partition: 0 },
        { key: "2", value: value("2", "22"), partition: 1 },
        { key: "3", value: value("3", "33"), partition: 2 },
        { key: "1", value: null, partition: 0 },
      ],
    });
  } finally {
    await producer.disconnect();
  }

  // kafkajs does not retry this answer within a join: each refused JoinGroup crashes the
  // consumer, which is where the rebuild used to give up.
  const REFUSED = 3;
  let refused = 0;
  const kafka = new Kafka({
    clientId: "test-rebuild",
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    socketFactory: refuseJoins({ refuse: () => refused < REFUSED && ++refused > 0 }),
  });
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["datagen", "kafka"], sinks: ["memory"], lowestLevel: "warning" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  let state;
  const started = performance.now();
  try {
    state = await readLiveState(kafka, topic, { timeoutMs: 60_000 });
  } finally {
    await reset();
  }
  console.log(
    `rebuild with ${REFUSED} joins refused: ${Math.round(performance.now() - started)} ms`,
  );
  assert.deepEqual(
    new Map(state),
    new Map([
      ["2", { userId: "22", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
      ["3", { userId: "33", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
    ]),
  );
  assert.equal(refused, REFUSED);
  assert.deepEqual(
    records.map((r) => [r.level, r.properties.error]),
    Array.from({ length: REFUSED }, () => [
      "warning",
      "The coordinator is loading and hence can't process requests for this group",
    ]),
  );
});
