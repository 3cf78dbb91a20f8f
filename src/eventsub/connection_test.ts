import assert from "node:assert/strict";
import { connectEventSub, type Connection, type ConnectionOptions } from "./connection.ts";
import {
  keepalive,
  notification,
  reconnect,
  revocation,
  startTestServer,
  type TestServer,
  welcome,
} from "./_test_server.ts";
import type { Subscription } from "./messages.ts";

/** A connection to `server` that records what it reports. */
function watch(server: TestServer, options: Partial<ConnectionOptions> = {}) {
  const sessions: string[] = [];
  const events: string[] = [];
  const revoked: Subscription[] = [];
  const states: string[] = [];
  const reasons: string[] = [];
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  const connection: Connection = connectEventSub({
    url: server.url,
    reconnectBaseMs: 20,
    keepaliveGraceMs: 0,
    random: () => 1,
    onSession: (id) => {
      sessions.push(id);
      poke();
      return Promise.resolve();
    },
    onNotification: (m) => {
      events.push(`${m.type}:${m.event.broadcaster_user_id}`);
      poke();
    },
    onRevocation: (s) => {
      revoked.push(s);
      poke();
    },
    onState: (s, reason) => {
      states.push(s);
      reasons.push(reason);
      poke();
    },
    ...options,
  });
  async function until(done: () => boolean, ms = 3000) {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error("timed out waiting");
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }
  return { connection, sessions, events, revoked, states, reasons, until };
}

Deno.test("a welcome starts a session and each notification is handled once", async () => {
  await using server = startTestServer();
  const w = watch(server);
  const client = await server.next();
  client.socket.send(welcome("s1"));
  await w.until(() => w.sessions.length === 1);
  client.socket.send(notification("stream.offline", "42", { messageId: "m1" }));
  client.socket.send(notification("stream.offline", "42", { messageId: "m1" }));
  client.socket.send(notification("stream.online", "43", { messageId: "m2" }));
  await w.until(() => w.events.length === 2);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(w.sessions, ["s1"]);
  assert.deepEqual(w.events, ["stream.offline:42", "stream.online:43"]);
  assert.equal(w.connection.sessionId, "s1");
  assert.equal(w.connection.state, "connected");
  w.connection.stop();
});

Deno.test("silence past the keepalive timeout reconnects and subscribes on the new session", async () => {
  await using server = startTestServer();
  const w = watch(server);
  const first = await server.next();
  first.socket.send(welcome("s1", 0.3));
  await w.until(() => w.sessions.length === 1);
  // Keepalives keep it open past the timeout.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 150));
    first.socket.send(keepalive());
  }
  assert.equal(w.connection.state, "connected");
  // Then silence: the client gives up on this socket and opens a new one.
  const second = await server.next();
  assert.equal(w.states.includes("disconnected"), true);
  second.socket.send(welcome("s2"));
  await w.until(() => w.sessions.length === 2);
  second.socket.send(notification("stream.offline", "7"));
  await w.until(() => w.events.length === 1);
  assert.deepEqual(w.sessions, ["s1", "s2"]);
  assert.deepEqual(w.events, ["stream.offline:7"]);
  w.connection.stop();
});

Deno.test("a socket the server closes is reopened with backoff and every later event is handled", async () => {
  await using server = startTestServer();
  const w = watch(server);
  const first = await server.next();
  first.socket.send(welcome("s1"));
  await w.until(() => w.sessions.length === 1);
  first.socket.close(4000, "internal server error");
  const second = await server.next();
  second.socket.send(welcome("s2"));
  await w.until(() => w.sessions.length === 2);
  for (const user of ["1", "2", "3"]) second.socket.send(notification("stream.offline", user));
  await w.until(() => w.events.length === 3);
  assert.deepEqual(w.events, ["stream.offline:1", "stream.offline:2", "stream.offline:3"]);
  assert.deepEqual(w.states, ["connected", "disconnected", "connecting", "connected"]);
  w.connection.stop();
});

Deno.test("session_reconnect moves to the new URL without subscribing again and closes the old socket", async () => {
  await using server = startTestServer();
  const w = watch(server);
  const first = await server.next();
  const firstClosed = new Promise<void>((resolve) => first.socket.onclose = () => resolve());
  first.socket.send(welcome("s1"));
  await w.until(() => w.sessions.length === 1);
  first.socket.send(reconnect("s1", `${server.url}?reconnect=1`));
  const second = await server.next();
  assert.equal(second.path, "/ws?reconnect=1");
  // Events on the old socket still count until the new one is welcomed.
  first.socket.send(notification("stream.offline", "1"));
  await w.until(() => w.events.length === 1);
  second.socket.send(welcome("s1"));
  await firstClosed;
  second.socket.send(notification("stream.offline", "2"));
  await w.until(() => w.events.length === 2);
  assert.deepEqual(w.sessions, ["s1"]);
  assert.deepEqual(w.events, ["stream.offline:1", "stream.offline:2"]);
  assert.equal(w.connection.state, "connected");
  w.connection.stop();
});

Deno.test("a revocation is reported with its subscription and status", async () => {
  await using server = startTestServer();
  const w = watch(server);
  const client = await server.next();
  client.socket.send(welcome("s1"));
  client.socket.send(revocation("stream.online", "42", "authorization_revoked"));
  await w.until(() => w.revoked.length === 1);
  assert.equal(w.revoked[0].type, "stream.online");
  assert.equal(w.revoked[0].status, "authorization_revoked");
  assert.deepEqual(w.revoked[0].condition, { broadcaster_user_id: "42" });
  w.connection.stop();
});

Deno.test("a server that never welcomes is left after the welcome timeout", async () => {
  await using server = startTestServer();
  const w = watch(server, { welcomeTimeoutMs: 100 });
  await server.next();
  const second = await server.next();
  second.socket.send(welcome("s2"));
  await w.until(() => w.sessions.length === 1);
  assert.deepEqual(w.sessions, ["s2"]);
  w.connection.stop();
});

Deno.test("a refused connection is retried with growing waits until the server is back", async () => {
  const probe = startTestServer();
  const port = probe.port;
  await probe.close();
  const states: string[] = [];
  const connection = connectEventSub({
    url: `ws://127.0.0.1:${port}/ws`,
    reconnectBaseMs: 10,
    random: () => 1,
    onSession: () => Promise.resolve(),
    onNotification: () => {},
    onState: (s, reason) => states.push(`${s}: ${reason}`),
  });
  await new Promise((r) => setTimeout(r, 200));
  connection.stop();
  const waits = states.filter((s) => s.startsWith("disconnected"))
    .map((s) => Number(/reconnecting in (\d+) ms/.exec(s)![1]));
  assert.ok(waits.length >= 3, `waits: ${waits}`);
  assert.deepEqual(waits.slice(0, 3), [10, 20, 40]);
});

Deno.test("sessions closed with 4003 soon after their welcome meet growing waits, not a loop", async () => {
  await using server = startTestServer();
  const w = watch(server, { reconnectBaseMs: 10 });
  for (let i = 0; i < 4; i++) {
    const client = await server.next();
    client.socket.send(welcome(`s${i}`));
    await w.until(() => w.sessions.length === i + 1);
    client.socket.close(4003, "connection unused");
    await w.until(() => w.reasons.filter((r) => r.includes("4003")).length === i + 1);
  }
  w.connection.stop();
  const reasons = w.reasons.filter((r) => r.includes("4003"))
    .map((r) => Number(/reconnecting in (\d+) ms/.exec(r)![1]));
  assert.deepEqual(reasons, [10, 20, 40, 80]);
});

Deno.test("a server that closes the old socket before the new one is welcomed does not start a new session", async () => {
  await using server = startTestServer();
  const w = watch(server);
  const first = await server.next();
  first.socket.send(welcome("s1"));
  await w.until(() => w.sessions.length === 1);
  first.socket.send(reconnect("s1", `${server.url}?reconnect=1`));
  const second = await server.next();
  first.socket.close(4004, "reconnect grace time expired");
  await new Promise((r) => setTimeout(r, 100));
  second.socket.send(welcome("s1"));
  second.socket.send(notification("stream.offline", "5"));
  await w.until(() => w.events.length === 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(w.sessions, ["s1"]);
  assert.equal(w.states.includes("disconnected"), false);
  assert.equal(w.connection.state, "connected");
  w.connection.stop();
});

Deno.test("a migration whose new socket fails starts a new session on the original URL", async () => {
  await using server = startTestServer();
  const w = watch(server, { welcomeTimeoutMs: 200 });
  const first = await server.next();
  first.socket.send(welcome("s1"));
  await w.until(() => w.sessions.length === 1);
  first.socket.send(reconnect("s1", `${server.url}?reconnect=1`));
  const second = await server.next();
  second.socket.close(4000, "internal server error");
  const third = await server.next();
  assert.equal(third.path, "/ws");
  third.socket.send(welcome("s3"));
  await w.until(() => w.sessions.length === 2);
  assert.deepEqual(w.sessions, ["s1", "s3"]);
  w.connection.stop();
});
