import assert from "node:assert/strict";
import { type Simulator, startSimulator } from "./mod.ts";
import { createEventSubApi, twitchUrls } from "../eventsub/twitch.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** A raw socket that records every message and how it closed. */
class Probe {
  readonly messages: { at: number; body: Json }[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly socket: WebSocket;
  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.onmessage = (e) =>
      this.messages.push({ at: Date.now(), body: JSON.parse(String(e.data)) });
    this.socket.onclose = (e) => this.closed = { code: e.code, reason: e.reason };
  }
  of(type: string): Json[] {
    return this.messages.filter((m) => m.body.metadata.message_type === type).map((m) => m.body);
  }
  async session(): Promise<string> {
    await until(() => this.of("session_welcome").length > 0, "a welcome");
    return this.of("session_welcome")[0].payload.session.id;
  }
  close() {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close();
  }
}

async function until(test: () => boolean, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Helix calls with the app's token, or the simulated user's. */
async function caller(sim: Simulator, kind: "app" | "user") {
  const grant: Record<string, string> = kind === "app"
    ? { grant_type: "client_credentials" }
    : { grant_type: "refresh_token", refresh_token: sim.userRefreshToken };
  const token = await fetch(`${sim.url}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
      ...grant,
    }),
  }).then((r) => r.json());
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sim.url}/mock/eventsub/${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token.access_token}`,
        "Client-Id": sim.clientId,
        "Content-Type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

function streamSub(type: string, userId: string, transport: unknown) {
  return { type, version: "1", condition: { broadcaster_user_id: userId }, transport };
}

Deno.test("the simulator resolves logins to user ids with the app's token", async () => {
  await using sim = await startSimulator({ streams: 50, seed: 3 });
  const streams = sim.liveStreams().slice(0, 3);
  const api = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
  });
  const ids = await api.userIds([...streams.map((s) => s.user_login), "nobody_here"]);
  assert.deepEqual(
    [...ids.entries()].sort(),
    streams.map((s) => [s.user_login, s.user_id]).sort(),
  );
});

Deno.test("a conduit's shards carry the churned world's events, round robin, with cost 1 a subscription", async () => {
  await using sim = await startSimulator({ streams: 200, seed: 5, churn: 2000, restartRate: 0.9 });
  const app = await caller(sim, "app");
  const conduit = (await app("POST", "conduits", { shard_count: 2 })).body.data[0].id;
  const shards = [new Probe(sim.eventSubUrl), new Probe(sim.eventSubUrl)];
  const sessions = await Promise.all(shards.map((p) => p.session()));
  const assigned = await app("PATCH", "conduits/shards", {
    conduit_id: conduit,
    shards: sessions.map((id, i) => ({
      id: String(i),
      transport: { method: "websocket", session_id: id },
    })),
  });
  assert.equal(assigned.status, 202);
  assert.deepEqual(assigned.body.errors, []);
  const users = sim.liveStreams().slice(0, 40).map((s) => s.user_id);
  let last;
  for (const user of users) {
    for (const type of ["stream.online", "stream.offline"]) {
      last = await app(
        "POST",
        "subscriptions",
        streamSub(type, user, { method: "conduit", conduit_id: conduit }),
      );
      assert.equal(last.status, 202);
    }
  }
  assert.deepEqual([last!.body.total, last!.body.total_cost, last!.body.max_total_cost], [
    80,
    80,
    10_000,
  ]);
  const received = () => shards.flatMap((p) => p.of("notification"));
  await until(
    () => received().filter((m) => m.metadata.subscription_type === "stream.offline").length >= 3,
    "three offline events",
  );
  for (const p of shards) p.close();
  // Every event went to exactly one shard, and both shards got some.
  const sent = sim.eventsub.sent.slice(0, received().length);
  assert.deepEqual(
    received().map((m) => m.payload.event.broadcaster_user_id).sort(),
    sent.map((e) => e.userId).sort(),
  );
  if (received().length >= 2) assert.ok(shards.every((p) => p.of("notification").length > 0));
  for (const m of received()) {
    assert.deepEqual(m.payload.subscription.transport, { method: "conduit", conduit_id: conduit });
  }
});

Deno.test("a session neither subscribed nor assigned is closed with 4003; an assigned one stays", async () => {
  await using sim = await startSimulator({ streams: 5, eventSubUnusedMs: 300 });
  const app = await caller(sim, "app");
  const conduit = (await app("POST", "conduits", { shard_count: 1 })).body.data[0].id;
  const idle = new Probe(sim.eventSubUrl);
  const used = new Probe(sim.eventSubUrl);
  await app("PATCH", "conduits/shards", {
    conduit_id: conduit,
    shards: [{ id: "0", transport: { method: "websocket", session_id: await used.session() } }],
  });
  await idle.session();
  await until(() => idle.closed !== null, "close of the idle session");
  assert.deepEqual(idle.closed, { code: 4003, reason: "connection unused" });
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(used.closed, null);
  used.close();
});

Deno.test("keepalives come only after keepalive_timeout_seconds of silence, clamped to 10..600", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const app = await caller(sim, "app");
  const conduit = (await app("POST", "conduits", { shard_count: 1 })).body.data[0].id;
  const probe = new Probe(`${sim.eventSubUrl}?keepalive_timeout_seconds=3`);
  const session = await probe.session();
  await app("PATCH", "conduits/shards", {
    conduit_id: conduit,
    shards: [{ id: "0", transport: { method: "websocket", session_id: session } }],
  });
  assert.equal(probe.of("session_welcome")[0].payload.session.keepalive_timeout_seconds, 10);
  await until(() => probe.of("session_keepalive").length > 0, "a keepalive", 30_000);
  const [welcome, keepalive] = probe.messages;
  assert.equal(keepalive.body.metadata.message_type, "session_keepalive");
  assert.ok(keepalive.at - welcome.at >= 9_900, `keepalive after ${keepalive.at - welcome.at} ms`);
  probe.close();
});

Deno.test("app tokens are refused for WebSocket subscriptions; a user token gets 10 cost over a WebSocket", async () => {
  await using sim = await startSimulator({ streams: 20 });
  const app = await caller(sim, "app");
  const user = await caller(sim, "user");
  const probe = new Probe(sim.eventSubUrl);
  const ws = { method: "websocket", session_id: await probe.session() };
  const refused = await app("POST", "subscriptions", streamSub("stream.online", "1", ws));
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /user access token/);
  const statuses = [];
  for (const s of sim.liveStreams().slice(0, 6)) {
    for (const type of ["stream.online", "stream.offline"]) {
      statuses.push((await user("POST", "subscriptions", streamSub(type, s.user_id, ws))).status);
    }
  }
  assert.deepEqual(statuses, [...Array(10).fill(202), 429, 429]);
  assert.equal((await user("GET", "conduits")).status, 401);
  probe.close();
});

Deno.test("a WebSocket subscription outlives its socket: disabled, listed, counted, and a 409 until deleted", async () => {
  await using sim = await startSimulator({ streams: 20 });
  const user = await caller(sim, "user");
  const first = new Probe(sim.eventSubUrl);
  const ws = { method: "websocket", session_id: await first.session() };
  const created = await user("POST", "subscriptions", streamSub("stream.online", "7", ws));
  first.close();
  await until(() => sim.eventsub.sessions === 0, "the session's end");
  const listed = await user("GET", "subscriptions");
  assert.deepEqual(
    [listed.body.data[0].status, listed.body.total_cost],
    ["websocket_disconnected", 1],
  );
  const second = new Probe(sim.eventSubUrl);
  const again = { method: "websocket", session_id: await second.session() };
  assert.equal(
    (await user("POST", "subscriptions", streamSub("stream.online", "7", again))).status,
    409,
  );
  assert.equal((await user("DELETE", `subscriptions?id=${created.body.data[0].id}`)).status, 204);
  assert.equal(
    (await user("POST", "subscriptions", streamSub("stream.online", "7", again))).status,
    202,
  );
  second.close();
});

Deno.test("a disabled shard is reported by conduit.shard.disabled, and its events go to the other shard", async () => {
  await using sim = await startSimulator({ streams: 200, seed: 8, churn: 2000, restartRate: 0.9 });
  const app = await caller(sim, "app");
  const conduit = (await app("POST", "conduits", { shard_count: 2 })).body.data[0].id;
  const [a, b] = [new Probe(sim.eventSubUrl), new Probe(sim.eventSubUrl)];
  await app("PATCH", "conduits/shards", {
    conduit_id: conduit,
    shards: [
      { id: "0", transport: { method: "websocket", session_id: await a.session() } },
      { id: "1", transport: { method: "websocket", session_id: await b.session() } },
    ],
  });
  const disabled = await app("POST", "subscriptions", {
    type: "conduit.shard.disabled",
    version: "1",
    condition: { client_id: sim.clientId, conduit_id: conduit },
    transport: { method: "conduit", conduit_id: conduit },
  });
  assert.equal(disabled.status, 202);
  assert.equal(disabled.body.data[0].cost, 0);
  a.close();
  await until(() => b.of("notification").length > 0, "conduit.shard.disabled");
  const event = b.of("notification")[0];
  assert.equal(event.metadata.subscription_type, "conduit.shard.disabled");
  assert.deepEqual([event.payload.event.shard_id, event.payload.event.status], [
    "0",
    "websocket_disconnected",
  ]);
  const shards = await app("GET", `conduits/shards?conduit_id=${conduit}`);
  assert.deepEqual(shards.body.data.map((s: Json) => s.status), [
    "websocket_disconnected",
    "enabled",
  ]);
  for (const s of sim.liveStreams().slice(0, 40)) {
    await app(
      "POST",
      "subscriptions",
      streamSub("stream.offline", s.user_id, { method: "conduit", conduit_id: conduit }),
    );
  }
  await until(() => b.of("notification").length >= 4, "three offline events on the shard left");
  assert.ok(sim.eventsub.registry.retried >= 1);
  b.close();
  await until(() => sim.eventsub.sessions === 0, "the sessions' end");
  const before = sim.eventsub.registry.dropped;
  await until(() => sim.eventsub.registry.dropped > before, "a dropped event");
});

Deno.test("a revoked subscription is told on its shard and is no longer listed", async () => {
  await using sim = await startSimulator({ streams: 20 });
  const app = await caller(sim, "app");
  const conduit = (await app("POST", "conduits", { shard_count: 1 })).body.data[0].id;
  const probe = new Probe(sim.eventSubUrl);
  await app("PATCH", "conduits/shards", {
    conduit_id: conduit,
    shards: [{ id: "0", transport: { method: "websocket", session_id: await probe.session() } }],
  });
  await app(
    "POST",
    "subscriptions",
    streamSub("stream.online", "42", { method: "conduit", conduit_id: conduit }),
  );
  assert.equal(sim.eventsub.revoke((s) => s.condition.broadcaster_user_id === "42"), 1);
  await until(() => probe.of("revocation").length > 0, "a revocation");
  assert.equal(probe.of("revocation")[0].payload.subscription.status, "user_removed");
  assert.equal((await app("GET", "subscriptions")).body.total, 0);
  probe.close();
});

Deno.test("every EventSub call takes a point of the client's rate bucket", async () => {
  await using sim = await startSimulator({ streams: 5, rateLimit: 3 });
  const app = await caller(sim, "app");
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await app("GET", "conduits")).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
});
