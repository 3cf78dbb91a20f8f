/**
 * EventSub subscriptions as Twitch keeps them: created with the WebSocket or
 * conduit transport, listed by page, deleted and revoked, with their cost
 * against `max_total_cost` and the limits of a user token over WebSocket.
 *
 * @module
 */

import {
  type Answer,
  describeSubscription,
  helixError,
  LIMITS,
  type Owner,
  type Registry,
  shardOf,
  type SimSubscription,
  type SimTransport,
} from "./eventsub_registry.ts";

/** The subscription types the simulator knows, with the condition field each needs. */
const TYPES: Record<string, string> = {
  "stream.online": "broadcaster_user_id",
  "stream.offline": "broadcaster_user_id",
  "conduit.shard.disabled": "client_id",
};

/** Create EventSub Subscription, with Twitch's refusals and cost. */
export function createSubscription(
  registry: Registry,
  owner: Owner,
  body: unknown,
  now: number,
): Answer {
  const request = (body ?? {}) as {
    type?: unknown;
    version?: unknown;
    condition?: Record<string, unknown>;
    transport?: { method?: unknown; session_id?: unknown; conduit_id?: unknown };
  };
  const type = String(request.type);
  const field = TYPES[type];
  const value = request.condition?.[field ?? ""];
  if (field === undefined || typeof value !== "string" || value === "") {
    return helixError(400, "invalid type or condition");
  }
  if (request.version !== "1") return helixError(400, "version must be 1");
  const condition: Record<string, string> = { [field]: value };
  if (type === "conduit.shard.disabled") {
    if (value !== registry.clientId) return helixError(400, "client_id must be the token's");
    const conduitId = request.condition?.conduit_id;
    if (typeof conduitId === "string") condition.conduit_id = conduitId;
  }
  const method = request.transport?.method;
  let transport: SimTransport;
  if (method === "websocket") {
    if (owner.kind === "app") {
      return helixError(400, "the websocket transport needs a user access token");
    }
    const sessionId = String(request.transport?.session_id ?? "");
    const session = registry.sessions.get(sessionId);
    if (!session?.connected) {
      return helixError(
        400,
        "websocket transport session does not exist or has already disconnected",
      );
    }
    if (shardOf(registry, sessionId)) {
      return helixError(400, "websocket session is a conduit shard");
    }
    transport = {
      method: "websocket",
      session_id: sessionId,
      connected_at: new Date(session.connectedAt).toISOString(),
    };
  } else if (method === "conduit") {
    if (owner.kind === "user") {
      return helixError(400, "the conduit transport needs an app access token");
    }
    const conduitId = String(request.transport?.conduit_id ?? "");
    if (!registry.conduits.has(conduitId)) return helixError(400, "conduit not found");
    transport = { method: "conduit", conduit_id: conduitId };
  } else {
    return helixError(400, "transport method must be websocket or conduit");
  }
  const ownerKey = owner.kind === "app" ? "app" : owner.userId;
  for (const sub of registry.subscriptions.values()) {
    if (sub.owner === ownerKey && sub.type === type && sameCondition(sub.condition, condition)) {
      return helixError(409, "subscription already exists");
    }
  }
  const cost = type === "conduit.shard.disabled" ? 0 : 1;
  const totals = costOf(registry, ownerKey);
  if (totals.total + cost > totals.max) {
    return helixError(429, "subscription cost exceeds max_total_cost");
  }
  if (transport.method === "websocket") {
    const sessionId = transport.session_id;
    const sessions = new Set(
      mine(registry, ownerKey).filter((s) => s.status === "enabled").map((s) => sessionOf(s)),
    );
    if (!sessions.has(sessionId) && sessions.size >= LIMITS.userConnections) {
      return helixError(429, "websocket transports limit exceeded");
    }
    const onSession = [...registry.subscriptions.values()].filter((s) =>
      s.status === "enabled" && sessionOf(s) === sessionId
    ).length;
    if (onSession >= LIMITS.subscriptionsPerConnection) {
      return helixError(429, "subscriptions per websocket connection limit exceeded");
    }
    registry.sessions.get(sessionId)!.used = true;
  }
  const sub: SimSubscription = {
    id: crypto.randomUUID(),
    type,
    condition,
    transport,
    status: "enabled",
    createdAt: new Date(now).toISOString(),
    cost,
    owner: ownerKey,
  };
  registry.subscriptions.set(sub.id, sub);
  const after = costOf(registry, ownerKey);
  return {
    status: 202,
    body: {
      data: [describeSubscription(sub)],
      total: after.count,
      total_cost: after.total,
      max_total_cost: after.max,
    },
  };
}

/**
 * Get EventSub Subscriptions of the caller: pages of 100 with a cursor, filtered by
 * `status`, `type`, `user_id` or `subscription_id`; totals cover all of the caller's.
 */
export function listSubscriptions(
  registry: Registry,
  owner: Owner,
  query: URLSearchParams,
): Answer {
  const ownerKey = owner.kind === "app" ? "app" : owner.userId;
  const filters = ["status", "type", "user_id", "subscription_id"].filter((f) => query.has(f));
  if (filters.length > 1) return helixError(400, "use one filter at most");
  let subs = mine(registry, ownerKey);
  if (query.has("status")) subs = subs.filter((s) => s.status === query.get("status"));
  if (query.has("type")) subs = subs.filter((s) => s.type === query.get("type"));
  if (query.has("user_id")) {
    subs = subs.filter((s) => s.condition.broadcaster_user_id === query.get("user_id"));
  }
  if (query.has("subscription_id")) {
    subs = subs.filter((s) => s.id === query.get("subscription_id"));
  }
  const start = Number(query.get("after") ?? "0");
  if (!Number.isInteger(start) || start < 0) return helixError(400, "invalid cursor");
  const page = subs.slice(start, start + LIMITS.pageSize);
  const next = start + LIMITS.pageSize;
  const totals = costOf(registry, ownerKey);
  return {
    status: 200,
    body: {
      data: page.map(describeSubscription),
      total: totals.count,
      total_cost: totals.total,
      max_total_cost: totals.max,
      pagination: next < subs.length ? { cursor: String(next) } : {},
    },
  };
}

/** Delete EventSub Subscription (the caller's own only). */
export function deleteSubscription(registry: Registry, owner: Owner, id: string): Answer {
  const sub = registry.subscriptions.get(id);
  const ownerKey = owner.kind === "app" ? "app" : owner.userId;
  if (!sub || sub.owner !== ownerKey) return helixError(404, "subscription not found");
  registry.subscriptions.delete(id);
  return { status: 204 };
}

/** Revokes a subscription as Twitch does (e.g. `user_removed`): it is gone, and its cost with it. */
export function revokeSubscription(
  registry: Registry,
  id: string,
  status: string,
): SimSubscription | null {
  const sub = registry.subscriptions.get(id);
  if (!sub) return null;
  registry.subscriptions.delete(id);
  return { ...sub, status };
}

function sessionOf(sub: SimSubscription): string | undefined {
  return sub.transport.method === "websocket" ? sub.transport.session_id : undefined;
}

function sameCondition(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function mine(registry: Registry, ownerKey: string): SimSubscription[] {
  return [...registry.subscriptions.values()].filter((s) => s.owner === ownerKey);
}

/** Count and cost of an owner's subscriptions, enabled or not, and its maximum. */
function costOf(registry: Registry, ownerKey: string) {
  const subs = mine(registry, ownerKey);
  return {
    count: subs.length,
    total: subs.reduce((sum, s) => sum + s.cost, 0),
    max: ownerKey === "app" ? registry.maxAppCost : LIMITS.userMaxCost,
  };
}
