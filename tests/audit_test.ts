/**
 * Audit scans: streams whose language Twitch reports outside the language
 * split fall into no shard, until an audit pages unsplit and the language
 * joins the split. A real broker, the service as a process on its schedule.
 */

import assert from "node:assert/strict";
import { readTopic, type TopicRecord, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { startService } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";

/** The newest record of every key. */
function latest(records: TopicRecord[]): Map<string, TopicRecord> {
  const map = new Map<string, TopicRecord>();
  for (const r of records) map.set(r.key!, r);
  return map;
}

const SIM = { streams: 1500, seed: 7, unlistedStreams: 20 };

Deno.test("an audit finds streams of unlisted languages within three scans, and names the languages", async () => {
  // The truth: the same static world the service's own simulator serves.
  await using truth = await startSimulator(SIM);
  const live = truth.liveStreams();
  const unlisted = live.filter((s) => /^[a-z]{2}-(?!hk)/.test(s.language));
  assert.equal(unlisted.length, 20);

  await using broker = await useTestBroker();
  const topic = uniqueTopic("audit");
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: String(SIM.streams),
    SIM_SEED: String(SIM.seed),
    SIM_UNLISTED_LANGUAGES: String(SIM.unlistedStreams),
    SCAN_AUDIT_INTERVAL: "1m",
    SCHEDULE: "* * * * *",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
  });
  const isScanEnd = (l: Record<string, unknown>) =>
    /^Scan (ok|failed|aborted)/.test(String(l.message));
  // The start-up scan is no audit: it is sharded, and misses the unlisted languages.
  await service.waitForLog(isScanEnd, 60_000);
  const first = latest(await readTopic(broker.brokers, topic));
  assert.equal(first.size, SIM.streams - 20);
  for (const s of unlisted) assert.equal(first.has(s.id), false);

  // The first scheduled scan is the audit. Allow up to two more scans (three in all).
  await service.waitForLog(() => service.logs().filter(isScanEnd).length >= 2, 150_000);
  const audit = service.logs().filter(isScanEnd)[1];
  assert.match(String(audit.message), /^Scan ok/);
  const table = latest(await readTopic(broker.brokers, topic));
  assert.deepEqual(
    new Set([...table.values()].filter((r) => r.value !== null).map((r) => r.key)),
    new Set(live.map((s) => s.id)),
  );
  const found = service.logs().filter((l) => String(l.message).startsWith("Found live streams"));
  assert.deepEqual(
    found.map((l) => l.language).sort(),
    [...new Set(unlisted.map((s) => s.language))].sort(),
  );
  for (const l of found) assert.equal(l.level, "WARN");
  assert.equal(
    service.logs().filter((l) => String(l.message).startsWith("Audit scan")).length,
    1,
  );
});
