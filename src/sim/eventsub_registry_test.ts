import assert from "node:assert/strict";
import {
  type Answer,
  createRegistry,
  LIMITS,
  type Owner,
  type Registry,
  sessionClosed,
  sessionOpened,
  unusedSessions,
} from "./eventsub_registry.ts";
import {
  createConduit,
  deleteConduit,
  listConduits,
  listShards,
  routeEvent,
  updateConduit,
  updateShards,
} from "./eventsub_conduits.ts";
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  revokeSubscription,
} from "./eventsub_subscriptions.ts";

const APP: Owner = { kind: "app" };
const USER: Owner = { kind: "user", userId: "u1" };
const T0 = Date.UTC(2026, 0, 1);

function registry(maxAppCost = 10_000): Registry {
  return createRegistry({ clientId: "client", maxAppCost });
}

function body(answer: Answer) {
  // deno-lint-ignore no-explicit-any
  return answer.body as any;
}

function conduit(r: Registry, shards = 2): string {
  return body(createConduit(r, { shard_count: shards })).data[0].id;
}

function online(userId: string, transport: unknown, type = "stream.online") {
  return { type, version: "1", condition: { broadcaster_user_id: userId }, transport };
}

function onConduit(id: string) {
  return { method: "conduit", conduit_id: id };
}

Deno.test("a client id may have 5 conduits; the sixth is refused with 429", () => {
  const r = registry();
  for (let i = 0; i < 5; i++) assert.equal(createConduit(r, { shard_count: 1 }).status, 200);
  const sixth = createConduit(r, { shard_count: 1 });
  assert.equal(sixth.status, 429);
  assert.equal(body(listConduits(r)).data.length, 5);
});

Deno.test("conduits are created, listed, resized and deleted; shard counts are bounded", () => {
  const r = registry();
  assert.equal(createConduit(r, { shard_count: 0 }).status, 400);
  assert.equal(createConduit(r, { shard_count: 20_001 }).status, 400);
  const id = conduit(r, 3);
  assert.deepEqual(body(listConduits(r)).data, [{ id, shard_count: 3 }]);
  assert.deepEqual(body(updateConduit(r, { id, shard_count: 1 })).data, [{ id, shard_count: 1 }]);
  assert.equal(body(listShards(r, id)).data.length, 1);
  assert.equal(updateConduit(r, { id: "nope", shard_count: 1 }).status, 404);
  assert.equal(deleteConduit(r, id).status, 204);
  assert.equal(deleteConduit(r, id).status, 404);
  assert.equal(listShards(r, id).status, 404);
});

Deno.test("a shard is assigned only to a connected session; the others are listed as errors", () => {
  const r = registry();
  const id = conduit(r, 2);
  sessionOpened(r, "s1", T0);
  const answer = updateShards(r, {
    conduit_id: id,
    shards: [
      { id: "0", transport: { method: "websocket", session_id: "s1" } },
      { id: "1", transport: { method: "websocket", session_id: "gone" } },
      { id: "7", transport: { method: "websocket", session_id: "s1" } },
    ],
  });
  assert.equal(answer.status, 202);
  assert.deepEqual(body(answer).data.map((s: { id: string }) => s.id), ["0"]);
  assert.deepEqual(body(answer).errors.map((e: { id: string }) => e.id), ["1", "7"]);
  assert.deepEqual(
    body(listShards(r, id)).data.map((s: { status: string }) => s.status),
    ["enabled", "websocket_disconnected"],
  );
  assert.deepEqual(body(listShards(r, id, "enabled")).data.map((s: { id: string }) => s.id), ["0"]);
});

Deno.test("conduit subscriptions cost 1 each, and the app's max_total_cost is enforced with 429", () => {
  const r = registry(3);
  const c = conduit(r);
  for (const user of ["1", "2", "3"]) {
    const answer = createSubscription(r, APP, online(user, onConduit(c)), T0);
    assert.equal(answer.status, 202);
    assert.equal(body(answer).data[0].cost, 1);
  }
  const over = createSubscription(r, APP, online("4", onConduit(c)), T0);
  assert.equal(over.status, 429);
  const listed = body(listSubscriptions(r, APP, new URLSearchParams()));
  assert.deepEqual([listed.total, listed.total_cost, listed.max_total_cost], [3, 3, 3]);
});

Deno.test("the app's max_total_cost is 10,000 by default", () => {
  const r = createRegistry({ clientId: "client", maxAppCost: 10_000 });
  const c = conduit(r);
  const answer = createSubscription(r, APP, online("1", onConduit(c)), T0);
  assert.equal(body(answer).max_total_cost, 10_000);
});

Deno.test("the same type and condition again is a 409, whatever the transport", () => {
  const r = registry();
  const c1 = conduit(r);
  const c2 = conduit(r);
  assert.equal(createSubscription(r, APP, online("9", onConduit(c1)), T0).status, 202);
  assert.equal(createSubscription(r, APP, online("9", onConduit(c2)), T0).status, 409);
  assert.equal(
    createSubscription(r, APP, online("9", onConduit(c1), "stream.offline"), T0).status,
    202,
  );
});

Deno.test("app tokens are refused for WebSocket subscriptions, user tokens for conduits", () => {
  const r = registry();
  const c = conduit(r);
  sessionOpened(r, "s1", T0);
  const ws = { method: "websocket", session_id: "s1" };
  assert.equal(createSubscription(r, APP, online("1", ws), T0).status, 400);
  assert.equal(createSubscription(r, USER, online("1", onConduit(c)), T0).status, 400);
  assert.equal(createSubscription(r, USER, online("1", ws), T0).status, 202);
});

Deno.test("a user token over WebSocket has max_total_cost 10", () => {
  const r = registry();
  sessionOpened(r, "s1", T0);
  const ws = { method: "websocket", session_id: "s1" };
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    statuses.push(createSubscription(r, USER, online(String(i), ws), T0).status);
    statuses.push(createSubscription(r, USER, online(String(i), ws, "stream.offline"), T0).status);
  }
  assert.deepEqual(statuses, [...Array(10).fill(202), 429, 429]);
  const listed = body(listSubscriptions(r, USER, new URLSearchParams()));
  assert.deepEqual([listed.total_cost, listed.max_total_cost], [10, 10]);
});

Deno.test("a user token may hold subscriptions on 3 connections, not 4", () => {
  const r = registry();
  for (const s of ["s1", "s2", "s3", "s4"]) sessionOpened(r, s, T0);
  const statuses = ["s1", "s2", "s3", "s4"].map((s, i) =>
    createSubscription(r, USER, online(String(i), { method: "websocket", session_id: s }), T0)
      .status
  );
  assert.deepEqual(statuses, [202, 202, 202, 429]);
});

Deno.test("a WebSocket connection holds at most 300 enabled subscriptions", () => {
  const r = registry();
  sessionOpened(r, "s1", T0);
  // Cost 0 for this check: a user-authorized channel costs nothing, so only the count binds.
  const ws = { method: "websocket", session_id: "s1" };
  for (let i = 0; i < LIMITS.subscriptionsPerConnection; i++) {
    const sub = createSubscription(r, USER, {
      type: "conduit.shard.disabled",
      version: "1",
      condition: { client_id: "client", conduit_id: String(i) },
      transport: ws,
    }, T0);
    assert.equal(sub.status, 202, `subscription ${i}`);
  }
  const over = createSubscription(r, USER, online("x", ws), T0);
  assert.equal(over.status, 429);
  assert.match(body(over).message, /per websocket connection/);
});

Deno.test("a subscription outlives its WebSocket: disabled, listed and counted until deleted", () => {
  const r = registry();
  sessionOpened(r, "s1", T0);
  const ws = { method: "websocket", session_id: "s1" };
  const id = body(createSubscription(r, USER, online("1", ws), T0)).data[0].id;
  sessionClosed(r, "s1", "websocket_disconnected", T0 + 5);
  const listed = body(listSubscriptions(r, USER, new URLSearchParams()));
  assert.equal(listed.data[0].status, "websocket_disconnected");
  assert.equal(listed.total_cost, 1);
  sessionOpened(r, "s2", T0 + 10);
  const again = createSubscription(
    r,
    USER,
    online("1", { method: "websocket", session_id: "s2" }),
    T0,
  );
  assert.equal(again.status, 409);
  assert.equal(deleteSubscription(r, USER, id).status, 204);
  assert.equal(body(listSubscriptions(r, USER, new URLSearchParams())).total_cost, 0);
});

Deno.test("conduit subscriptions survive their shard's session, and deleting the conduit removes them", () => {
  const r = registry();
  const c = conduit(r, 1);
  sessionOpened(r, "s1", T0);
  updateShards(r, {
    conduit_id: c,
    shards: [{ id: "0", transport: { method: "websocket", session_id: "s1" } }],
  });
  createSubscription(r, APP, online("1", onConduit(c)), T0);
  const disabled = sessionClosed(r, "s1", "websocket_disconnected", T0);
  assert.deepEqual(disabled.map((d) => [d.conduitId, d.shard.id, d.shard.status]), [
    [c, "0", "websocket_disconnected"],
  ]);
  assert.equal(body(listSubscriptions(r, APP, new URLSearchParams())).data[0].status, "enabled");
  deleteConduit(r, c);
  assert.equal(body(listSubscriptions(r, APP, new URLSearchParams())).total, 0);
});

Deno.test("a session neither subscribed nor assigned within 10 s is unused", () => {
  const r = registry();
  const c = conduit(r, 1);
  for (const s of ["idle", "shard", "ws"]) sessionOpened(r, s, T0);
  updateShards(r, {
    conduit_id: c,
    shards: [{ id: "0", transport: { method: "websocket", session_id: "shard" } }],
  });
  createSubscription(r, USER, online("1", { method: "websocket", session_id: "ws" }), T0);
  assert.deepEqual(unusedSessions(r, T0 + 9_999), []);
  assert.deepEqual(unusedSessions(r, T0 + 10_000), ["idle"]);
});

Deno.test("an event for a disabled shard is retried once on an enabled shard, else dropped", () => {
  const r = registry();
  const c = conduit(r, 2);
  sessionOpened(r, "a", T0);
  sessionOpened(r, "b", T0);
  updateShards(r, {
    conduit_id: c,
    shards: [
      { id: "0", transport: { method: "websocket", session_id: "a" } },
      { id: "1", transport: { method: "websocket", session_id: "b" } },
    ],
  });
  const sub = r.subscriptions.get(
    body(createSubscription(r, APP, online("1", onConduit(c)), T0)).data[0].id,
  )!;
  assert.deepEqual([routeEvent(r, sub), routeEvent(r, sub)], ["a", "b"]);
  sessionClosed(r, "a", "websocket_disconnected", T0);
  assert.deepEqual([routeEvent(r, sub), routeEvent(r, sub)], ["b", "b"]);
  assert.equal(r.retried, 1);
  sessionClosed(r, "b", "websocket_disconnected", T0);
  assert.equal(routeEvent(r, sub), null);
  assert.equal(r.dropped, 1);
});

Deno.test("subscriptions are listed 100 a page with a cursor, and filtered by status", () => {
  const r = registry();
  const c = conduit(r);
  for (let i = 0; i < 250; i++) createSubscription(r, APP, online(String(i), onConduit(c)), T0);
  const pages = [];
  let after: string | undefined;
  do {
    const query = new URLSearchParams(after ? { after } : {});
    const page = body(listSubscriptions(r, APP, query));
    pages.push(page.data.length);
    after = page.pagination.cursor;
  } while (after);
  assert.deepEqual(pages, [100, 100, 50]);
  const enabled = body(listSubscriptions(r, APP, new URLSearchParams({ status: "enabled" })));
  assert.equal(enabled.data.length, 100);
  assert.equal(enabled.total, 250);
});

Deno.test("a revoked subscription is gone, and its cost with it", () => {
  const r = registry();
  const c = conduit(r);
  const id = body(createSubscription(r, APP, online("1", onConduit(c)), T0)).data[0].id;
  const revoked = revokeSubscription(r, id, "user_removed");
  assert.equal(revoked?.status, "user_removed");
  assert.equal(body(listSubscriptions(r, APP, new URLSearchParams())).total_cost, 0);
  assert.equal(revokeSubscription(r, id, "user_removed"), null);
});

Deno.test("each caller sees and deletes only its own subscriptions", () => {
  const r = registry();
  const c = conduit(r);
  sessionOpened(r, "s1", T0);
  const appSub = body(createSubscription(r, APP, online("1", onConduit(c)), T0)).data[0].id;
  createSubscription(r, USER, online("1", { method: "websocket", session_id: "s1" }), T0);
  assert.equal(body(listSubscriptions(r, APP, new URLSearchParams())).total, 1);
  assert.equal(deleteSubscription(r, USER, appSub).status, 404);
});
