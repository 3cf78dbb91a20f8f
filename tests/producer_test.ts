/**
 * The producer end to end: the service as a process (same permissions as
 * `deno task start`), the simulator behind twurple, a real Kafka broker, and
 * kcat as the independent reader.
 */

import assert from "node:assert/strict";
import {
  readTopic,
  topicConfig,
  topicPartitions,
  type TopicRecord,
  uniqueTopic,
  useTestBroker,
} from "./support/kafka.ts";
import { runService, startService } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";

/** Helix's fields and the JSON type of each. */
const HELIX_TYPES: Record<string, string> = {
  id: "string",
  user_id: "string",
  user_login: "string",
  user_name: "string",
  game_id: "string",
  game_name: "string",
  type: "string",
  title: "string",
  tags: "array",
  viewer_count: "number",
  started_at: "string",
  language: "string",
  thumbnail_url: "string",
  tag_ids: "array",
  is_mature: "boolean",
};

function jsonType(value: unknown): string {
  return Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
}

function simulated(brokers: string, topic: string, extra: Record<string, string> = {}) {
  return {
    SOURCE: "simulated",
    SIM_SEED: "11",
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: topic,
    ...extra,
  };
}

/** The records of `after` that `before` did not have (kcat sorts by partition, so slicing would not do). */
function newRecords(before: TopicRecord[], after: TopicRecord[]): TopicRecord[] {
  const seen = new Set(before.map((r) => `${r.partition}:${r.offset}`));
  return after.filter((r) => !seen.has(`${r.partition}:${r.offset}`));
}

/** The newest record of every key. */
function latest(records: TopicRecord[]): Map<string, TopicRecord> {
  const map = new Map<string, TopicRecord>();
  for (const r of records) map.set(r.key!, r);
  return map;
}

Deno.test("--once produces exactly one record per live stream, keyed by id, with Helix's fields and types", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("once");
  const result = await runService(
    ["--once"],
    simulated(broker.bootstrap, topic, { SIM_STREAMS: "1500" }),
  );
  assert.equal(result.code, 0, result.stderr);
  // kafkajs's idle timer loop is patched out, so the runtime has no negative timeout to warn of.
  assert.doesNotMatch(result.stderr, /TimeoutNegativeWarning/);

  const records = await readTopic(broker.brokers, topic);
  assert.equal(records.length, 1500);
  assert.equal(new Set(records.map((r) => r.key)).size, 1500);
  const scanIds = new Set<string>();
  for (const record of records) {
    const value = JSON.parse(record.value!);
    assert.equal(record.key, value.id);
    assert.deepEqual(Object.keys(value), Object.keys(HELIX_TYPES));
    for (const [field, type] of Object.entries(HELIX_TYPES)) {
      assert.equal(jsonType(value[field]), type, `${field} of ${record.key}`);
    }
    assert.deepEqual(value.tag_ids, []);
    assert.equal(value.type, "live");
    scanIds.add(record.headers["scan-id"]);
    assert.equal(record.timestamp, Date.parse(record.headers["fetched-at"]));
  }
  assert.equal(scanIds.size, 1);

  assert.equal(await topicPartitions(broker.brokers, topic), 3);
  assert.equal((await topicConfig(broker.brokers, topic))["cleanup.policy"], "compact");
});

Deno.test("--dry-run prints exactly the records --once produces, and needs no broker", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("dry");
  const env = simulated(broker.bootstrap, topic, { SIM_STREAMS: "700" });
  const dry = await runService(["--dry-run"], { ...env, KAFKA_BROKERS: "127.0.0.1:1" });
  assert.equal(dry.code, 0, dry.stderr);
  const once = await runService(["--once"], env);
  assert.equal(once.code, 0, once.stderr);

  // started_at is relative to the simulator's start, so it differs between the two runs.
  const comparable = (value: string) => JSON.stringify({ ...JSON.parse(value), started_at: "" });
  const printed = dry.stdout.trim().split("\n").map((line) => JSON.parse(line));
  const produced = await readTopic(broker.brokers, topic);
  assert.equal(printed.length, 700);
  assert.deepEqual(
    new Map(printed.map((p) => [p.key, comparable(JSON.stringify(p.value))])),
    new Map(produced.map((r) => [r.key, comparable(r.value!)])),
  );
  for (const p of printed) {
    assert.deepEqual(Object.keys(p), ["key", "value", "timestamp", "headers"]);
    assert.equal(p.timestamp, Date.parse(p.headers["fetched-at"]));
  }
});

Deno.test("streams that ended between runs get exactly one tombstone each, and no live stream does", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("ended");
  const first = await runService(
    ["--once"],
    simulated(broker.bootstrap, topic, { SIM_STREAMS: "1000" }),
  );
  assert.equal(first.code, 0, first.stderr);
  const before = await readTopic(broker.brokers, topic);

  const second = await runService(
    ["--once"],
    simulated(broker.bootstrap, topic, { SIM_STREAMS: "900" }),
  );
  assert.equal(second.code, 0, second.stderr);
  const after = await readTopic(broker.brokers, topic);
  const secondScan = newRecords(before, after);

  const tombstones = secondScan.filter((r) => r.value === null);
  const live = new Set(secondScan.filter((r) => r.value !== null).map((r) => r.key));
  assert.equal(live.size, 900);
  assert.equal(tombstones.length, 100);
  const ended = new Set(before.map((r) => r.key).filter((k) => !live.has(k)));
  assert.deepEqual(new Set(tombstones.map((t) => t.key)), ended);
  for (const t of tombstones) assert.equal(t.headers["end-reason"], "ended");
  // Read as a table (newest per key, tombstones delete), the topic holds exactly the live streams.
  const table = [...latest(after).values()].filter((r) => r.value !== null).map((r) => r.key);
  assert.deepEqual(new Set(table), live);
});

Deno.test("a scan cut short by Helix failures produces no tombstone and exits non-zero", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("cut");
  const first = await runService(
    ["--once"],
    simulated(broker.bootstrap, topic, { SIM_STREAMS: "1000" }),
  );
  assert.equal(first.code, 0, first.stderr);
  const cut = await runService(
    ["--once"],
    simulated(broker.bootstrap, topic, {
      SIM_STREAMS: "1000",
      SIM_FAIL_AFTER: "3",
      SCAN_MODE: "sequential",
    }),
  );
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /Scan failed/);
  const records = await readTopic(broker.brokers, topic);
  assert.equal(records.filter((r) => r.value === null).length, 0);
  // The three pages that did arrive were still produced.
  assert.equal(records.length, 1000 + 300);
});

Deno.test("a stream older than 48 hours is tombstoned whatever Helix says", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("expired");
  const result = await runService(
    ["--once"],
    simulated(broker.bootstrap, topic, { SIM_STREAMS: "300", SIM_EXPIRED_STREAMS: "4" }),
  );
  assert.equal(result.code, 0, result.stderr);
  const records = await readTopic(broker.brokers, topic);
  const tombstones = records.filter((r) => r.value === null);
  assert.equal(tombstones.length, 4);
  for (const t of tombstones) assert.equal(t.headers["end-reason"], "expired");
  assert.equal(records.filter((r) => r.value !== null).length, 296);
  const withValue = new Set(records.filter((r) => r.value !== null).map((r) => r.key));
  for (const t of tombstones) assert.ok(!withValue.has(t.key));
});

Deno.test("under churn, every stream live throughout a scan has a record from that scan", async () => {
  await using broker = await useTestBroker();
  await using sim = await startSimulator({ streams: 3000, churn: 30, seed: 5, latencyMs: 5 });
  const topic = uniqueTopic("churn");
  const env = {
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    TWURPLE_MOCK_API_PORT: String(sim.port),
    TWITCH_CLIENT_ID: sim.clientId,
    TWITCH_CLIENT_SECRET: sim.clientSecret,
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    SCAN_MODE: "sequential",
  };
  const first = await runService(["--once"], env);
  assert.equal(first.code, 0, first.stderr);
  const before = await readTopic(broker.brokers, topic);

  const liveAtStart = new Set(sim.liveIds());
  const second = await runService(["--once"], env);
  const liveAtEnd = sim.liveIds();
  assert.equal(second.code, 0, second.stderr);
  const secondScan = newRecords(before, await readTopic(broker.brokers, topic));
  const produced = new Set(secondScan.filter((r) => r.value !== null).map((r) => r.key));
  // A stream the topic never had and this scan's paging also missed cannot be
  // looked up (nothing names it); every stream the topic knew must be there.
  const known = new Set(before.map((r) => r.key));
  const missed = liveAtEnd.filter((id) =>
    liveAtStart.has(id) && known.has(id) && !produced.has(id)
  );
  assert.deepEqual(missed, []);
  assert.equal(
    secondScan.filter((r) => r.value !== null).length,
    produced.size,
    "one record per stream",
  );
  const summary = JSON.parse(second.stderr.trim().split("\n").find((l) => l.includes('"Scan ok'))!);
  console.log(
    `churn scan: ${summary.duplicates} duplicates dropped, ${summary.recovered} recovered by look-up`,
  );
  assert.ok(summary.duplicates > 0, "churn should make paging see duplicates");
  assert.ok(summary.recovered > 0, "churn should make paging miss streams the look-up finds");
});

Deno.test("SIGTERM during a scan exits 0 in time with every acknowledged record in Kafka", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("sigterm");
  await using service = startService([], {
    ...simulated(broker.bootstrap, topic, { SIM_STREAMS: "30000", SIM_LATENCY_MS: "200" }),
    SCAN_MODE: "sequential",
  });
  await service.waitForLog((l) => String(l.message).startsWith("Rebuilt the live set"));
  await new Promise((r) => setTimeout(r, 2000));
  const stopped = Date.now();
  const result = await service.stop("SIGTERM");
  const tookMs = Date.now() - stopped;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(tookMs < 30_000, `took ${tookMs} ms to stop`);
  const summary = service.logs().find((l) => String(l.message).startsWith("Scan aborted"));
  assert.ok(summary, result.stderr);
  const records = await readTopic(broker.brokers, topic);
  assert.equal(records.length, summary.records);
  assert.equal(new Set(records.map((r) => r.key)).size, records.length);
  assert.ok(records.length > 0 && records.length < 30000);
});
