import assert from "node:assert/strict";
import { startEventSub } from "./mod.ts";
import { WatchLedger } from "./ledger.ts";
import type { EventSubApi } from "./twitch.ts";
import { notification, startTestServer, welcome } from "./_test_server.ts";
import { createFakeSource, fakeStream } from "../scan/_test_utils.ts";
import { createMetrics } from "../ops/metrics.ts";
import { liveStream, type StreamRecord } from "../scan/record.ts";

/** A Helix edge that answers the conduit calls and counts nothing itself (no gate). */
const api: EventSubApi = {
  clientId: "c",
  userIds: () => Promise.resolve(new Map()),
  conduits: () => Promise.resolve([{ id: "k", shardCount: 1 }]),
  createConduit: () => Promise.reject(new Error("not expected")),
  updateConduit: () => Promise.reject(new Error("not expected")),
  assignShards: () => Promise.resolve({ assigned: ["0"], refused: [] }),
  subscribe: () => Promise.resolve({ created: false }),
  subscriptions: () => Promise.resolve({ data: [], total: 0, totalCost: 0, maxTotalCost: 10_000 }),
  unsubscribe: () => Promise.resolve(),
};

/** Both subscriptions of each channel, enabled on conduit "k", as Twitch lists them. */
function listedFor(userIds: string[]) {
  return userIds.flatMap((userId) =>
    ["stream.online", "stream.offline"].map((type) => ({
      id: `${type} ${userId}`,
      type,
      status: "enabled",
      userId,
      conduitId: "k",
    }))
  );
}

Deno.test("each stream.online look-up counts in EventSub's points", async () => {
  await using server = startTestServer();
  const metrics = createMetrics();
  const sent: StreamRecord[] = [];
  const source = createFakeSource({ listed: [fakeStream("9", { user_id: "42" })] });
  const eventsub = startEventSub({
    url: server.url,
    logins: [],
    api,
    shards: 1,
    channels: 10,
    source,
    send: (records) => {
      sent.push(...records);
      return Promise.resolve();
    },
    live: () => new Map(),
    ledger: new WatchLedger(),
    metrics,
  });
  const client = await server.next();
  client.socket.send(welcome("s1"));
  const points = async () => (await metrics.eventsubPoints.get()).values[0]?.value ?? 0;
  assert.equal(await points(), 0);
  client.socket.send(notification("stream.online", "42", { streamId: "9" }));
  const deadline = Date.now() + 10_000;
  while (sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(sent.map((r) => r.key), ["9"]);
  assert.equal(await points(), 1);
  eventsub.stop();
});

Deno.test("a start (or a new leader) deletes nothing before its first scan ranked the channels", async () => {
  await using server = startTestServer();
  const calls: string[] = [];
  const listed = listedFor(["1", "2"]);
  const eventsub = startEventSub({
    url: server.url,
    logins: [],
    api: {
      ...api,
      subscriptions: () => {
        calls.push("list");
        return Promise.resolve({ data: listed, total: 4, totalCost: 4, maxTotalCost: 10_000 });
      },
      unsubscribe: (id) => {
        calls.push(`delete ${id}`);
        return Promise.resolve();
      },
    },
    shards: 1,
    channels: 10,
    source: createFakeSource({ listed: [] }),
    send: () => Promise.resolve(),
    live: () => new Map(),
    ledger: new WatchLedger(),
    metrics: createMetrics(),
  });
  (await server.next()).socket.send(welcome("s1"));
  await eventsub.conduit.ready;
  await new Promise((r) => setTimeout(r, 200));
  await eventsub.settled();
  assert.deepEqual(calls, []);
  const streams = [fakeStream("a", { user_id: "1" }), fakeStream("b", { user_id: "2" })];
  eventsub.afterScan(new Map(streams.map((s) => [s.id, liveStream(s)])));
  await eventsub.settled();
  assert.deepEqual(calls, ["list"]);
  assert.deepEqual([...eventsub.subscribed].sort(), ["1", "2"]);
  eventsub.stop();
});

Deno.test("an event of a channel that left the set, still subscribed until its delete, is handled", async () => {
  await using server = startTestServer();
  const sent: StreamRecord[] = [];
  const old = fakeStream("a", { user_id: "1", viewer_count: 1 });
  const top = fakeStream("b", { user_id: "2", viewer_count: 100 });
  const state = new Map([old, top].map((s) => [s.id, liveStream(s)]));
  let deleting: (() => void) | null = null;
  const eventsub = startEventSub({
    url: server.url,
    logins: [],
    api: {
      ...api,
      subscriptions: () =>
        Promise.resolve({
          data: listedFor(["1", "2"]),
          total: 4,
          totalCost: 4,
          maxTotalCost: 10_000,
        }),
      // The delete of channel 1's subscriptions is under way while its end arrives.
      unsubscribe: () => new Promise<void>((resolve) => (deleting = resolve)),
    },
    shards: 1,
    channels: 1,
    source: createFakeSource({ listed: [] }),
    send: (records) => {
      sent.push(...records);
      return Promise.resolve();
    },
    live: () => state,
    ledger: new WatchLedger(),
    metrics: createMetrics(),
  });
  const client = await server.next();
  client.socket.send(welcome("s1"));
  await eventsub.conduit.ready;
  eventsub.afterScan(state);
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  await until(() => deleting !== null);
  client.socket.send(notification("stream.offline", "1"));
  await until(() => sent.length > 0);
  assert.deepEqual(sent.map((r) => [r.key, r.value]), [["a", null]]);
  deleting!();
  eventsub.stop();
});
