import assert from "node:assert/strict";
import { type ConduitTransport, findConduit, startConduit } from "./conduit.ts";
import { createEventSubApi, type EventSubApi, twitchUrls } from "./twitch.ts";
import { reconcileSubscriptions } from "./subscriptions.ts";
import { type Simulator, startSimulator } from "../sim/mod.ts";
import { routeEvent } from "../sim/eventsub_conduits.ts";
import type { Registry } from "../sim/eventsub_registry.ts";

function apiOf(sim: Simulator): EventSubApi {
  return createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
  });
}

/** The simulator's API, counting the subscriptions it creates. */
function countingCreates(sim: Simulator) {
  let creates = 0;
  const api = apiOf(sim);
  const counting: EventSubApi = {
    ...api,
    clientId: api.clientId,
    subscribe: (...args) => {
      creates++;
      return api.subscribe(...args);
    },
  };
  return { counting, creates: () => creates };
}

async function until(test: () => boolean, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function start(sim: Simulator, api: EventSubApi, shards = 2): ConduitTransport {
  return startConduit({
    api,
    url: sim.eventSubUrl,
    shards,
    onNotification: () => {},
    retryBaseMs: 20,
    connection: { reconnectBaseMs: 20 },
  });
}

function enabledShards(sim: Simulator): string[] {
  const conduit = [...sim.eventsub.registry.conduits.values()][0];
  return conduit.shards.filter((s) => s.status === "enabled").map((s) => s.sessionId!);
}

Deno.test("restarts find the one conduit again, resized, and never leave another behind", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const api = apiOf(sim);
  const first = await findConduit(api, 2);
  for (let i = 0; i < 3; i++) assert.equal((await findConduit(api, 2)).id, first.id);
  assert.deepEqual(await findConduit(api, 3), { id: first.id, shardCount: 3 });
  assert.equal(sim.eventsub.registry.conduits.size, 1);
});

Deno.test("each shard is assigned to its session as soon as it is welcomed", async () => {
  await using sim = await startSimulator({ streams: 5, eventSubUnusedMs: 2000 });
  const conduit = start(sim, apiOf(sim));
  await until(() => conduit.assigned === 2, "two assigned shards");
  assert.deepEqual(
    enabledShards(sim).sort(),
    conduit.connections.map((c) => c.sessionId!).sort(),
  );
  // Assigned sessions are used: none is closed with 4003.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(sim.eventsub.sessions, 2);
  assert.equal(conduit.assigned, 2);
  conduit.stop();
});

Deno.test("after a lost connection the shards are reassigned and nothing is subscribed again", async () => {
  await using sim = await startSimulator({ streams: 30 });
  const { counting, creates } = countingCreates(sim);
  const conduit = start(sim, counting);
  const conduitId = await conduit.ready;
  const users = sim.liveStreams().slice(0, 10).map((s) => s.user_id);
  const result = await reconcileSubscriptions(counting, conduitId, users);
  assert.equal(result.subscribed.size, 10);
  await until(() => conduit.assigned === 2, "two assigned shards");
  const before = enabledShards(sim);
  const ids = [...sim.eventsub.registry.subscriptions.keys()].sort();
  const createsBefore = creates();
  sim.eventsub.dropAll();
  await until(
    () => conduit.assigned === 2 && enabledShards(sim).every((s) => !before.includes(s)),
    "two shards on new sessions",
  );
  assert.equal(creates(), createsBefore);
  assert.deepEqual([...sim.eventsub.registry.subscriptions.keys()].sort(), ids);
  conduit.stop();
});

Deno.test("a shard Twitch disables while its socket is ours is assigned to that session again, nothing subscribed again, and events reach it", async () => {
  await using sim = await startSimulator({ streams: 30, churn: 0 });
  const { counting, creates } = countingCreates(sim);
  const disabled: string[] = [];
  const conduit = startConduit({
    api: counting,
    url: sim.eventSubUrl,
    shards: 2,
    onNotification: () => {},
    onAssign: (shard, _session, refused) => {
      if (refused === undefined && disabled.length > 0) disabled.push(`assigned ${shard}`);
    },
    retryBaseMs: 20,
    connection: { reconnectBaseMs: 20 },
  });
  const conduitId = await conduit.ready;
  const users = sim.liveStreams().slice(0, 10).map((s) => s.user_id);
  assert.equal((await reconcileSubscriptions(counting, conduitId, users)).subscribed.size, 10);
  await until(() => conduit.assigned === 2, "two assigned shards");
  const sessions = conduit.connections.map((c) => c.sessionId!);
  const ids = [...sim.eventsub.registry.subscriptions.keys()].sort();
  const createsBefore = creates();
  const shard0 = () => [...sim.eventsub.registry.conduits.values()][0].shards[0];

  disabled.push("disabled 0");
  assert.equal(sim.eventsub.disableShard("0"), 1);
  assert.equal(shard0().status, "websocket_failed_ping_pong");
  await until(() => shard0().status === "enabled", "shard 0 enabled again");
  assert.deepEqual(disabled, ["disabled 0", "assigned 0"]);
  // The same session took it back: no reconnect, no new subscription, the same list.
  assert.equal(shard0().sessionId, sessions[0]);
  assert.deepEqual(conduit.connections.map((c) => c.sessionId), sessions);
  assert.equal(conduit.assigned, 2);
  assert.equal(creates(), createsBefore);
  assert.deepEqual([...sim.eventsub.registry.subscriptions.keys()].sort(), ids);
  // Events reach both shards again, none dropped.
  const subscription = [...sim.eventsub.registry.subscriptions.values()]
    .find((s) => s.type === "stream.online")!;
  const routed = new Set(
    Array.from({ length: 4 }, () => routeEvent(sim.eventsub.registry as Registry, subscription)),
  );
  assert.deepEqual([...routed].sort(), [...sessions].sort());
  assert.equal(sim.eventsub.registry.dropped, 0);
  conduit.stop();
});

Deno.test("a refused assignment is retried with growing waits", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const api = apiOf(sim);
  const attempts: number[] = [];
  const refusing: EventSubApi = {
    ...api,
    clientId: api.clientId,
    assignShards: () => {
      attempts.push(Date.now());
      return Promise.resolve({ assigned: [], refused: [{ id: "0", message: "no" }] });
    },
  };
  const conduit = startConduit({
    api: refusing,
    url: sim.eventSubUrl,
    shards: 1,
    onNotification: () => {},
    retryBaseMs: 20,
    random: () => 1,
  });
  await until(() => attempts.length >= 1, "a first attempt");
  await new Promise((r) => setTimeout(r, 700));
  conduit.stop();
  // Waits of 20, 40, 80, 160, 320 ms: at most 6 attempts in 700 ms (a fixed wait: 35).
  assert.ok(attempts.length >= 2 && attempts.length <= 6, `${attempts.length} attempts`);
});

Deno.test("the cap is respected: creates stop at Twitch's max_total_cost and the log's figures are Twitch's", async () => {
  await using sim = await startSimulator({ streams: 30, eventSubMaxCost: 11 });
  const api = apiOf(sim);
  const conduit = await findConduit(api, 1);
  const users = sim.liveStreams().slice(0, 8).map((s) => s.user_id);
  const result = await reconcileSubscriptions(api, conduit.id, users);
  assert.equal(result.subscribed.size, 5);
  assert.deepEqual([result.totalCost, result.maxTotalCost], [11, 11]);
  assert.equal(result.created, 11);
  assert.equal(result.refused.length, 5);
  assert.match(result.refused[0].reason, /max_total_cost/);
  // Dropping channels from the set deletes ours and frees their cost.
  const smaller = await reconcileSubscriptions(api, conduit.id, users.slice(0, 2));
  assert.deepEqual([smaller.deleted, smaller.totalCost, smaller.subscribed.size], [7, 4, 2]);
});

Deno.test("a reconcile tells of each channel as it gets both events, with Twitch's totals then", async () => {
  await using sim = await startSimulator({ streams: 30 });
  const api = apiOf(sim);
  const conduit = await findConduit(api, 1);
  const users = sim.liveStreams().slice(0, 4).map((s) => s.user_id);
  const heard: [string, number][] = [];
  const result = await reconcileSubscriptions(api, conduit.id, users, undefined, {
    onSubscribed: (userId, totals) => heard.push([userId, totals.totalCost]),
  });
  assert.deepEqual(heard.map(([u]) => u).sort(), [...result.subscribed].sort());
  assert.deepEqual(heard.map(([, cost]) => cost), [2, 4, 6, 8]);
});
