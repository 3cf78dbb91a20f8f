/**
 * The topic holds exactly what the configuration selects: a filter narrowed
 * between runs tombstones what it no longer selects. A real broker, the
 * service as a process, kcat as the independent reader.
 */

import assert from "node:assert/strict";
import { readTopic, type TopicRecord, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { runService } from "./support/service.ts";

/** The newest record of every key. */
function latest(records: TopicRecord[]): Map<string, TopicRecord> {
  const map = new Map<string, TopicRecord>();
  for (const r of records) map.set(r.key!, r);
  return map;
}

Deno.test("narrowing STREAM_LANGUAGES between runs deselects the dropped language's streams", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("narrowed");
  const env = {
    SOURCE: "simulated",
    SIM_SEED: "11",
    SIM_STREAMS: "2000",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
  };
  const first = await runService(["--once"], { ...env, STREAM_LANGUAGES: "en,de" });
  assert.equal(first.code, 0, first.stderr);
  const before = await readTopic(broker.brokers, topic);
  const language = new Map(before.map((r) => [r.key!, JSON.parse(r.value!).language as string]));
  const de = [...language].filter(([, l]) => l === "de").map(([k]) => k);
  const en = [...language].filter(([, l]) => l === "en").map(([k]) => k);
  assert.ok(de.length > 0 && en.length > 0, `${de.length} de and ${en.length} en streams`);
  assert.equal(de.length + en.length, before.length);

  const second = await runService(["--once"], { ...env, STREAM_LANGUAGES: "en" });
  assert.equal(second.code, 0, second.stderr);
  const table = latest(await readTopic(broker.brokers, topic));
  for (const key of de) {
    const record = table.get(key)!;
    assert.equal(record.value, null, `${key} is still live`);
    assert.equal(record.headers["end-reason"], "deselected");
  }
  for (const key of en) assert.notEqual(table.get(key)!.value, null, `${key} is not live`);
  // A third run finds nothing left to deselect: no stream is looked up or tombstoned again.
  const third = await runService(["--once"], { ...env, STREAM_LANGUAGES: "en" });
  assert.equal(third.code, 0, third.stderr);
  const after = await readTopic(broker.brokers, topic);
  const tombstones = after.filter((r) => r.value === null);
  assert.equal(tombstones.length, de.length);
});
