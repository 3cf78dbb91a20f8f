import assert from "node:assert/strict";
import { startSimulator } from "./mod.ts";
import { createEventSubApi, twitchUrls } from "../eventsub/twitch.ts";
import { connectEventSub } from "../eventsub/connection.ts";
import type { EventSubMessage } from "../eventsub/messages.ts";

type Notification = Extract<EventSubMessage, { kind: "notification" }>;

function api(
  sim: { port: number; clientId: string; clientSecret: string; userRefreshToken: string },
) {
  return createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    refreshToken: sim.userRefreshToken,
  });
}

Deno.test("the simulator resolves logins to user ids with a user token from its refresh grant", async () => {
  await using sim = await startSimulator({ streams: 50, seed: 3 });
  const streams = sim.liveStreams().slice(0, 3);
  const ids = await api(sim).userIds([...streams.map((s) => s.user_login), "nobody_here"]);
  assert.deepEqual(
    [...ids.entries()].sort(),
    streams.map((s) => [s.user_login, s.user_id]).sort(),
  );
});

Deno.test("a refresh token the simulator did not issue is refused, naming the setting", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const bad = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    refreshToken: "wrong",
  });
  await assert.rejects(() => bad.userIds(["a"]), /TWITCH_USER_REFRESH_TOKEN/);
});

Deno.test("subscriptions need a session of this server, and are listed and deleted", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const edge = api(sim);
  await assert.rejects(() => edge.subscribe("stream.online", "1", "nope"), /400/);
  const sessions: string[] = [];
  const connection = connectEventSub({
    url: sim.eventSubUrl,
    onSession: (id) => {
      sessions.push(id);
      return Promise.resolve();
    },
    onNotification: () => {},
  });
  while (sessions.length === 0) await new Promise((r) => setTimeout(r, 10));
  await edge.subscribe("stream.offline", "123", sessions[0]);
  // A second identical subscription is a 409, which counts as subscribed.
  await edge.subscribe("stream.offline", "123", sessions[0]);
  const token = await fetch(`${sim.url}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
    }),
  }).then((r) => r.json());
  const headers = { Authorization: `Bearer ${token.access_token}`, "Client-Id": sim.clientId };
  const listed = await fetch(`${sim.url}/mock/eventsub/subscriptions`, { headers })
    .then((r) => r.json());
  assert.equal(listed.total, 1);
  assert.deepEqual(listed.data[0].condition, { broadcaster_user_id: "123" });
  assert.equal(listed.data[0].transport.session_id, sessions[0]);
  const deleted = await fetch(
    `${sim.url}/mock/eventsub/subscriptions?id=${listed.data[0].id}`,
    { method: "DELETE", headers },
  );
  await deleted.body?.cancel();
  assert.equal(deleted.status, 204);
  connection.stop();
});

Deno.test("the churned world's starts and ends of subscribed channels arrive as notifications", async () => {
  await using sim = await startSimulator({ streams: 200, seed: 5, churn: 2000, restartRate: 0.9 });
  const users = sim.liveStreams().slice(0, 40).map((s) => s.user_id);
  const edge = api(sim);
  const received: Notification[] = [];
  let subscribed = false;
  const connection = connectEventSub({
    url: sim.eventSubUrl,
    onSession: async (id) => {
      for (const user of users) {
        await edge.subscribe("stream.online", user, id);
        await edge.subscribe("stream.offline", user, id);
      }
      subscribed = true;
    },
    onNotification: (m) => received.push(m),
  });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && received.filter((m) => m.type === "stream.offline").length < 3) {
    await new Promise((r) => setTimeout(r, 20));
  }
  connection.stop();
  assert.ok(subscribed);
  const offline = received.filter((m) => m.type === "stream.offline");
  assert.ok(offline.length >= 3, `only ${offline.length} offline events`);
  // Every notification is one the simulator recorded, for a subscribed channel, in order.
  const sent = sim.eventsub.sent.slice(0, received.length);
  assert.deepEqual(
    received.map((m) => [m.type, m.event.broadcaster_user_id]),
    sent.map((e) => [e.type, e.userId]),
  );
  for (const m of received) assert.ok(users.includes(String(m.event.broadcaster_user_id)));
  for (const m of received.filter((m) => m.type === "stream.online")) {
    assert.equal(typeof m.event.id, "string");
    assert.equal(m.event.type, "live");
  }
});
