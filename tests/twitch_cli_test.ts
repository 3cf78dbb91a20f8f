/**
 * Conformance with Twitch's own mocks, from the official Twitch CLI: its
 * mock Helix must come through the service into Kafka unchanged, and its
 * mock EventSub server's stream.offline must reach the topic within the 2 s
 * the watchlist promises, and its stream.online (a broadcast id Helix never
 * lists) must not bring the ended broadcast back.
 */

import assert from "node:assert/strict";
import { readTopic, type TopicRecord, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, NO_SCHEDULED_SCANS, runService, startService } from "./support/service.ts";
import {
  cliHome,
  runCli,
  skipWithoutCli,
  startEventSubServer,
  startMockApi,
} from "./support/twitch_cli.ts";
import { startSimulator } from "../src/sim/mod.ts";

/** Every stream the mock serves, read page by page with an app token of its own. */
async function mockStreams(port: number, clientId: string, clientSecret: string) {
  const base = `http://localhost:${port}`;
  // The mock reads the client credentials from the query string only.
  const query = new URLSearchParams({
    client_id: clientId,
    client_secret: clientSecret,
    grant_type: "client_credentials",
  });
  const token = await fetch(`${base}/auth/token?${query}`, { method: "POST" }).then((r) =>
    r.json()
  );
  const streams: Record<string, unknown>[] = [];
  let cursor = "";
  do {
    const answer = await fetch(
      `${base}/mock/streams?first=100${cursor ? `&after=${cursor}` : ""}`,
      {
        headers: { Authorization: `Bearer ${token.access_token}`, "Client-Id": clientId },
      },
    ).then((r) => r.json());
    streams.push(...answer.data);
    cursor = answer.pagination?.cursor ?? "";
  } while (cursor !== "");
  return streams;
}

/** The newest record per key. */
function newest(records: TopicRecord[]): Map<string, TopicRecord> {
  const latest = new Map<string, TopicRecord>();
  for (const r of records) latest.set(r.key!, r);
  return latest;
}

Deno.test({
  name:
    "every stream the Twitch CLI's mock Helix serves lands in Kafka keyed by id with the same value",
  ignore: skipWithoutCli,
  async fn() {
    const home = await cliHome();
    try {
      await using broker = await useTestBroker();
      await using mock = await startMockApi(home, { count: 20 });
      const served = await mockStreams(mock.port, mock.clientId, mock.clientSecret);
      assert.ok(served.length > 0, "the mock serves no live stream");
      const env = {
        SOURCE: "twitch",
        // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
        HELIX_CACHE_HORIZON: "0",
        TWURPLE_MOCK_API_PORT: String(mock.port),
        TWITCH_CLIENT_ID: mock.clientId,
        TWITCH_CLIENT_SECRET: mock.clientSecret,
      };
      const topic = uniqueTopic("cli-helix");
      const once = await runService(["--once"], {
        ...env,
        KAFKA_BROKERS: broker.bootstrap,
        KAFKA_TOPIC: topic,
      });
      assert.equal(once.code, 0, once.stderr);
      const latest = newest(await readTopic(broker.brokers, topic));
      assert.deepEqual([...latest.keys()].sort(), served.map((s) => String(s.id)).sort());
      for (const stream of served) {
        assert.deepEqual(JSON.parse(latest.get(String(stream.id))!.value!), stream);
      }
      // The mock sends no Ratelimit headers: the budget is unknown, not empty.
      const dry = await runService(["--dry-run"], env);
      assert.equal(dry.code, 0, dry.stderr);
      const summary = logLines(dry.stderr).find((l) => String(l.message).startsWith("Scan ok"));
      assert.match(String(summary?.message), /, "unknown" left$/);
      assert.equal(summary?.rateLimitRemaining, "unknown");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

/** Polls the topic until `found` picks a record, or fails after `ms`; resolves with the wait. */
async function waitForRecord(
  brokers: string[],
  topic: string,
  found: (records: TopicRecord[]) => TopicRecord | undefined,
  ms: number,
): Promise<{ record: TopicRecord; elapsedMs: number }> {
  const started = performance.now();
  for (;;) {
    const record = found(await readTopic(brokers, topic));
    const elapsedMs = Math.round(performance.now() - started);
    if (record !== undefined) return { record, elapsedMs };
    if (elapsedMs > ms) throw new Error(`no such record in ${topic} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "the Twitch CLI's stream.offline is a tombstone within 2 s, and its stream.online does not bring the ended broadcast back",
  ignore: skipWithoutCli,
  async fn() {
    const home = await cliHome();
    try {
      await using broker = await useTestBroker();
      await using server = await startEventSubServer(home);
      // The service's own simulator has the same data: learn a channel of it here.
      const seed = 7;
      const watched = await (async () => {
        await using sim = await startSimulator({ streams: 20, seed });
        return sim.liveStreams()[0];
      })();
      const topic = uniqueTopic("cli-eventsub");
      // SOURCE=simulated: no Twitch credential of any kind, though the EventSub server is the CLI's.
      await using service = startService([], {
        SOURCE: "simulated",
        SIM_STREAMS: "20",
        SIM_SEED: String(seed),
        WATCH_USER_LOGINS: watched.user_login,
        LOG_LEVEL: "debug",
        EVENTSUB_WS_URL: server.url,
        // The CLI's server has no conduits: the shard's assignment (asked of the simulator) is
        // refused and retried, while the CLI delivers its events to every socket anyway.
        EVENTSUB_SHARDS: "1",
        EVENTSUB_CHANNELS: "1",
        SCHEDULE: NO_SCHEDULED_SCANS,
        KAFKA_BROKERS: broker.bootstrap,
        KAFKA_TOPIC: topic,
      });
      await service.waitForLog((l) => String(l.message ?? "").startsWith("Scan ok"), 60_000);
      await service.waitForLog(
        (l) => l.logger === "datagen.eventsub" && l.shard === 0 && l.state === "connected",
        10_000,
      );

      const trigger = (type: string) =>
        runCli(home, ["event", "trigger", type, "--transport=websocket", "-t", watched.user_id]);
      await trigger("stream.offline");
      const offline = await waitForRecord(
        broker.brokers,
        topic,
        (records) => records.find((r) => r.key === watched.id && r.value === null),
        2000,
      );
      assert.equal(offline.record.headers["end-reason"], "offline");
      assert.equal(offline.record.headers["scan-id"], "eventsub");

      // The CLI's stream.online names a broadcast id of its own, which the simulator never lists:
      // the watcher waits for that broadcast, and the ended one stays ended.
      await trigger("stream.online");
      await service.waitForLog(
        (l) => l.type === "stream.online" && String(l.message ?? "").endsWith("arrived"),
        5000,
      );
      await new Promise((r) => setTimeout(r, 3000));
      const after = (await readTopic(broker.brokers, topic)).filter((r) =>
        r.key === watched.id && r.partition === offline.record.partition &&
        r.offset > offline.record.offset
      );
      assert.deepEqual(after, []);
      console.log(
        `Twitch CLI stream.offline to Kafka (trigger command included): ${offline.elapsedMs} ms`,
      );
      await service.stop();
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
