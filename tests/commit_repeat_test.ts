/**
 * What the commit patch (`src/kafka/kafkajs_commit_patch.ts`) relies on, asked
 * of a real broker: a repeated `EndTxn(COMMIT)` with the same producer id and
 * epoch is answered idempotently (CONCURRENT_TRANSACTIONS while the commit's
 * markers are written, then success), never as a second commit, and an older
 * epoch is refused as INVALID_PRODUCER_EPOCH. The records of the transaction
 * are read once.
 */

import assert from "node:assert/strict";
import Broker from "kafkajs/src/broker/index.js";
import { createKafka } from "../src/kafka/client.ts";
import { type EndTxnRequest, repeatCommit } from "../src/kafka/kafkajs_commit_patch.ts";
import { createTopic, readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";

type EndTxn = (this: unknown, request: EndTxnRequest) => Promise<unknown>;

Deno.test("the broker answers a repeated commit of the same epoch idempotently, and an older epoch as fenced", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("commit-repeat");
  await createTopic(broker.bootstrap, topic);
  // The coordinator and the request of kafkajs's own commit, captured on the way out.
  const prototype = (Broker as unknown as { prototype: { endTxn: EndTxn } }).prototype;
  const original = prototype.endTxn;
  let sent: { coordinator: unknown; request: EndTxnRequest } | null = null;
  prototype.endTxn = function (request) {
    sent = { coordinator: this, request };
    return original.call(this, request);
  };
  const kafka = createKafka({ brokers: broker.brokers, clientId: "commit-repeat-test" });
  const producer = kafka.producer({
    transactionalId: `twitch-datagen.${topic}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic, messages: [{ key: "k", value: "v" }] });
    await transaction.commit();
  } finally {
    prototype.endTxn = original;
  }
  assert.ok(sent !== null, "kafkajs sent EndTxn");
  const { coordinator, request } = sent as { coordinator: unknown; request: EndTxnRequest };
  assert.equal(request.transactionResult, true);
  const endTxn = (r: EndTxnRequest) => original.call(coordinator, r);
  // The same commit again, as after a coordinator failover: settled, not committed twice.
  const answer = await repeatCommit(
    { endTxn },
    request,
    () => Promise.resolve({ endTxn }),
    { baseMs: 200, capMs: 200, random: () => 1 },
  );
  assert.equal((answer as { errorCode: number }).errorCode, 0);
  await assert.rejects(
    endTxn({ ...request, producerEpoch: request.producerEpoch - 1 }),
    (e: { type?: string }) => e.type === "INVALID_PRODUCER_EPOCH",
  );
  await producer.disconnect();
  const records = await readTopic(broker.bootstrap, topic);
  assert.deepEqual(records.map((r) => [r.key, r.value]), [["k", "v"]]);
});
