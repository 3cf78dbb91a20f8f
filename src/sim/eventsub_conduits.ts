/**
 * Conduits and their shards as Twitch keeps them (Create, Get, Update and
 * Delete Conduits; Get and Update Conduit Shards), and where a conduit
 * subscription's event goes: the shards in turn, one retry on another
 * enabled shard, then dropped.
 *
 * @module
 */

import {
  type Answer,
  describeShard,
  helixError,
  LIMITS,
  type Registry,
  type SimConduit,
  type SimShard,
  type SimSubscription,
  UNASSIGNED,
} from "./eventsub_registry.ts";

/** Create Conduits: `{ shard_count }`; 5 per client id. */
export function createConduit(registry: Registry, body: unknown): Answer {
  const count = (body as { shard_count?: unknown } | null)?.shard_count;
  if (!isCount(count)) return helixError(400, "shard_count must be from 1 to 20000");
  if (registry.conduits.size >= LIMITS.conduitsPerClient) {
    return helixError(429, "conduit limit reached");
  }
  const conduit: SimConduit = { id: crypto.randomUUID(), shards: [], next: 0 };
  resize(conduit, count);
  registry.conduits.set(conduit.id, conduit);
  return { status: 200, body: { data: [describeConduit(conduit)] } };
}

/** Get Conduits. */
export function listConduits(registry: Registry): Answer {
  return { status: 200, body: { data: [...registry.conduits.values()].map(describeConduit) } };
}

/** Update Conduits: `{ id, shard_count }`. Shards past the new count are dropped. */
export function updateConduit(registry: Registry, body: unknown): Answer {
  const { id, shard_count: count } = (body ?? {}) as { id?: unknown; shard_count?: unknown };
  if (!isCount(count)) return helixError(400, "shard_count must be from 1 to 20000");
  const conduit = registry.conduits.get(String(id));
  if (!conduit) return helixError(404, "conduit not found");
  resize(conduit, count);
  return { status: 200, body: { data: [describeConduit(conduit)] } };
}

/** Delete Conduit: its subscriptions go with it. */
export function deleteConduit(registry: Registry, id: string): Answer {
  if (!registry.conduits.delete(id)) return helixError(404, "conduit not found");
  for (const [subId, sub] of registry.subscriptions) {
    if (sub.transport.method === "conduit" && sub.transport.conduit_id === id) {
      registry.subscriptions.delete(subId);
    }
  }
  return { status: 204 };
}

/** Get Conduit Shards (all on one page), optionally of one status. */
export function listShards(registry: Registry, conduitId: string, status?: string): Answer {
  const conduit = registry.conduits.get(conduitId);
  if (!conduit) return helixError(404, "conduit not found");
  const data = conduit.shards.filter((s) => !status || s.status === status).map(describeShard);
  return { status: 200, body: { data, pagination: {} } };
}

/**
 * Update Conduit Shards: `{ conduit_id, shards: [{ id, transport }] }`. Each shard is
 * assigned on its own: those refused are listed in `errors`, the rest in `data`.
 */
export function updateShards(registry: Registry, body: unknown): Answer {
  const { conduit_id: conduitId, shards } = (body ?? {}) as {
    conduit_id?: unknown;
    shards?: { id?: unknown; transport?: { method?: unknown; session_id?: unknown } }[];
  };
  const conduit = registry.conduits.get(String(conduitId));
  if (!conduit) return helixError(404, "conduit not found");
  if (!Array.isArray(shards) || shards.length === 0) {
    return helixError(400, "shards must list at least one shard");
  }
  const data = [];
  const errors = [];
  for (const update of shards) {
    const id = String(update?.id);
    const shard = conduit.shards.find((s) => s.id === id);
    const sessionId = String(update?.transport?.session_id ?? "");
    const session = registry.sessions.get(sessionId);
    let refusal = "";
    if (!shard) refusal = "shard id outside the conduit's range";
    else if (update?.transport?.method !== "websocket") refusal = "only websocket shards here";
    else if (!session?.connected) refusal = "websocket session not found or disconnected";
    else if (ownsUserSubscriptions(registry, sessionId)) {
      refusal = "websocket session already holds subscriptions";
    }
    if (refusal || !shard || !session) {
      errors.push({ id, message: refusal, code: "invalid_parameter" });
      continue;
    }
    // A session serves one shard: assigning it elsewhere leaves its old shard.
    for (const other of registry.conduits.values()) {
      for (const s of other.shards) {
        if (s !== shard && s.sessionId === sessionId) Object.assign(s, unassigned());
      }
    }
    session.used = true;
    Object.assign(shard, {
      status: "enabled",
      sessionId,
      connectedAt: new Date(session.connectedAt).toISOString(),
      disconnectedAt: undefined,
    });
    data.push(describeShard(shard));
  }
  return { status: 202, body: { data, errors } };
}

// ------------------------------------------------------------------ routing

/**
 * Where an event of `sub` goes: its WebSocket session while enabled; for a conduit, the
 * next shard in turn, or when that one is not enabled one other enabled shard, or
 * nowhere (counted in `dropped`).
 */
export function routeEvent(registry: Registry, sub: SimSubscription): string | null {
  if (sub.status !== "enabled") return null;
  if (sub.transport.method === "websocket") {
    return registry.sessions.get(sub.transport.session_id)?.connected
      ? sub.transport.session_id
      : null;
  }
  const conduit = registry.conduits.get(sub.transport.conduit_id);
  if (!conduit || conduit.shards.length === 0) return null;
  const n = conduit.shards.length;
  const first = conduit.next++ % n;
  if (deliverable(registry, conduit.shards[first])) return conduit.shards[first].sessionId!;
  for (let step = 1; step < n; step++) {
    const shard = conduit.shards[(first + step) % n];
    if (deliverable(registry, shard)) {
      registry.retried++;
      return shard.sessionId!;
    }
  }
  registry.dropped++;
  return null;
}

function describeConduit(conduit: SimConduit) {
  return { id: conduit.id, shard_count: conduit.shards.length };
}

function resize(conduit: SimConduit, count: number) {
  conduit.shards.length = Math.min(conduit.shards.length, count);
  for (let i = conduit.shards.length; i < count; i++) {
    conduit.shards.push({ id: String(i), status: UNASSIGNED });
  }
}

function unassigned(): Partial<SimShard> {
  return {
    status: UNASSIGNED,
    sessionId: undefined,
    connectedAt: undefined,
    disconnectedAt: undefined,
  };
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 &&
    (value as number) <= LIMITS.shardsPerConduit;
}

function deliverable(registry: Registry, shard: SimShard): boolean {
  return shard.status === "enabled" && shard.sessionId !== undefined &&
    registry.sessions.get(shard.sessionId)?.connected === true;
}

function ownsUserSubscriptions(registry: Registry, sessionId: string): boolean {
  for (const sub of registry.subscriptions.values()) {
    if (sub.transport.method === "websocket" && sub.transport.session_id === sessionId) return true;
  }
  return false;
}
