/**
 * EventSub with two instances (HA=on): only the leader holds the conduit's
 * shards. When the leader dies the new leader finds the same conduit,
 * assigns its shards to its own sessions in place of the dead leader's,
 * subscribes nothing again that was subscribed, and the events reach it:
 * a channel's end becomes a tombstone written by the new leader.
 */

import assert from "node:assert/strict";
import { readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { NO_SCHEDULED_SCANS, startService } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { waitFor as until } from "./support/wait.ts";

type Line = Record<string, unknown>;

const message = (l: Line) => String(l.message ?? "");
const isLeading = (l: Line) => message(l).startsWith("Leadership:") && l.role === "leader";
const isStandingBy = (l: Line) => message(l).startsWith("Leadership:") && l.role === "standby";
const subscribedAll = (l: Line) =>
  /^EventSub conduit .*: ([1-9]\d*) of \1 channels subscribed/.test(message(l));

Deno.test("a new leader takes over the conduit's shards with its own sessions, resubscribes nothing, and gets the events", async () => {
  await using broker = await useTestBroker();
  await using sim = await startSimulator({
    streams: 300,
    seed: 33,
    churn: 30,
    restartRate: 1,
    // 600 subscriptions ramp in seconds at EventSub's fifth of the bucket.
    rateLimit: 120_000,
  });
  const topic = uniqueTopic("eventsub-ha");
  const env = {
    SOURCE: "twitch",
    HA: "on",
    TWURPLE_MOCK_API_PORT: String(sim.port),
    TWITCH_CLIENT_ID: sim.clientId,
    TWITCH_CLIENT_SECRET: sim.clientSecret,
    EVENTSUB_WS_URL: sim.eventSubUrl,
    EVENTSUB_CHANNELS: "5000",
    EVENTSUB_SHARDS: "2",
    SCHEDULE: NO_SCHEDULED_SCANS,
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    KAFKA_SESSION_TIMEOUT_MS: "6000",
  };
  const conduit = () => {
    assert.equal(sim.eventsub.registry.conduits.size, 1, "one conduit, never one per instance");
    return [...sim.eventsub.registry.conduits.values()][0];
  };
  const shardSessions = () =>
    conduit().shards.filter((s) => s.status === "enabled").map((s) => s.sessionId!).sort();
  const streamSubscriptions = () =>
    new Map(
      [...sim.eventsub.registry.subscriptions.values()]
        .filter((s) => s.type.startsWith("stream."))
        .map((s) => [`${s.type} ${s.condition.broadcaster_user_id}`, s.id]),
    );

  await using a = startService([], env);
  await a.waitForLog(isLeading, 90_000);
  await a.waitForLog(subscribedAll, 90_000);
  await until("the leader's two shards", () => shardSessions().length === 2, 30_000);
  const aSessions = shardSessions();

  await using b = startService([], env);
  await b.waitForLog(isStandingBy, 90_000);
  // A standby holds no shard and opens no session.
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(shardSessions(), aSessions);
  assert.equal(sim.eventsub.sessions, 2);
  assert.equal(b.logs().filter((l) => l.logger === "datagen.eventsub").length, 0);

  const before = streamSubscriptions();
  a.process.kill("SIGKILL");
  const killedAt = Date.now();
  await b.waitForLog(isLeading, 60_000);
  await until(
    "the new leader's sessions on both shards",
    () => {
      const now = shardSessions();
      return now.length === 2 && now.every((s) => !aSessions.includes(s));
    },
    60_000,
  );
  const takenAt = Date.now();
  const assigned = b.logs().filter((l) => message(l).startsWith("EventSub shard") && l.sessionId);
  const bSessions = new Set(assigned.map((l) => String(l.sessionId)));
  assert.ok(
    shardSessions().every((s) => bSessions.has(s)),
    "the shards hold sessions the new leader assigned",
  );
  await b.waitForLog(subscribedAll, 60_000);
  // What was subscribed stays subscribed under the same id: nothing was created again.
  const after = streamSubscriptions();
  const recreated = [...before].filter(([key, id]) => after.has(key) && after.get(key) !== id);
  assert.deepEqual(recreated, []);
  const kept = [...before.keys()].filter((key) => after.has(key));
  assert.ok(kept.length >= before.size * 0.9, `only ${kept.length} of ${before.size} kept`);

  // Events now reach the new leader: ends after the takeover become its tombstones.
  const from = sim.eventsub.sent.length;
  await until(
    "the new leader's tombstone of an end",
    () =>
      b.logs().some((l) =>
        l.type === "stream.offline" && String(l.result ?? "").startsWith("produced ")
      ),
    60_000,
  );
  const produced = b.logs().filter((l) =>
    l.type === "stream.offline" && String(l.result ?? "").startsWith("produced ")
  ).flatMap((l) => String(l.result).slice("produced ".length).split(","));
  const ends = new Set(
    sim.eventsub.sent.slice(from).filter((e) => e.type === "stream.offline").map((e) => e.streamId),
  );
  assert.ok(produced.some((id) => ends.has(id)), "a tombstone of an end after the takeover");
  await b.stop();
  const tombstones = (await readTopic(broker.bootstrap, topic)).filter((r) =>
    r.value === null && r.headers["scan-id"] === "eventsub" && ends.has(r.key!)
  );
  assert.ok(tombstones.length > 0, "the new leader's tombstones are in the topic");
  console.log(
    `takeover: shards on the new leader's sessions ${
      takenAt - killedAt
    } ms after the kill; ${kept.length} of ${before.size} subscriptions kept, none created again; ${tombstones.length} tombstones of ends after it`,
  );
});
