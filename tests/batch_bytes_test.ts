/**
 * Batches are sized in bytes: a scan's worth of emoji and CJK titles to one
 * partition lands in full on a topic whose size limit sits just above the
 * batcher's, where sizing by JS string length (UTF-16 units) would send
 * batches up to three times too large and have them refused.
 */

import assert from "node:assert/strict";
import { logLevel } from "kafkajs";
import { createTopic, readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { createBatcher } from "../src/scan/batcher.ts";
import { createKafka, kafkaDelivery } from "../src/kafka/client.ts";
import { streamRecord } from "../src/scan/record.ts";

const STREAMS = 4000;
/** The batcher's default limit (900,000 bytes) plus room for the batch header, and no more. */
const TOPIC_LIMIT = 910_000;
/** Twitch titles are at most 140 characters: 70 emoji (140 UTF-16 units) or 140 CJK characters. */
const TITLES = ["🎮🔥".repeat(35), "初見さん歓迎雑談配信".repeat(14), "Ünïcödé ßtream ".repeat(9)];

function stream(i: number) {
  return {
    id: String(40_000_000_000 + i),
    user_id: String(100_000 + i),
    user_login: `channel_${i}`,
    user_name: `Channel ${i}`,
    game_id: "509658",
    game_name: "Just Chatting",
    type: "live",
    title: TITLES[i % TITLES.length],
    tags: ["日本語", "English"],
    viewer_count: i,
    started_at: "2026-11-29T10:00:00Z",
    language: "ja",
    thumbnail_url:
      `https://static-cdn.jtvnw.net/previews-ttv/live_user_channel_${i}-{width}x{height}.jpg`,
    tag_ids: [],
    is_mature: false,
  };
}

Deno.test("a scan of emoji and CJK titles to one partition fits the broker's byte limit in every batch", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("utf8");
  await createTopic(broker.bootstrap, topic, {
    partitions: 1,
    config: { "max.message.bytes": String(TOPIC_LIMIT) },
  });
  const kafka = createKafka({
    clientId: "batch-bytes-test",
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
  });
  const delivery = kafkaDelivery(kafka, topic);
  await delivery.connect();
  const sizes: number[] = [];
  try {
    const send = delivery.send;
    // The scan's sink with its default limits, as the service builds it.
    const sink = createBatcher((batch) => {
      sizes.push(batch.length);
      return send(batch);
    });
    const meta = { scanId: crypto.randomUUID(), fetchedAt: Date.now() };
    for (let page = 0; page < STREAMS / 100; page++) {
      await sink.write(
        Array.from({ length: 100 }, (_, i) => streamRecord(stream(page * 100 + i), meta)),
      );
    }
    await sink.flush();
  } finally {
    await delivery.close();
  }
  console.log(`${STREAMS} records in ${sizes.length} batches: ${sizes.join(", ")}`);
  assert.ok(sizes.length >= 4, `${sizes.length} batches: the test must fill batches`);
  const records = await readTopic(broker.bootstrap, topic);
  assert.equal(records.length, STREAMS);
  assert.deepEqual(
    records.map((r) => JSON.parse(r.value!).title),
    Array.from({ length: STREAMS }, (_, i) => TITLES[i % TITLES.length]),
  );
});
