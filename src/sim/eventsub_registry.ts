/**
 * What Twitch's EventSub keeps for one client id, as plain data: conduits and
 * their shards, subscriptions, sessions, and Twitch's limits. The rules over
 * it are plain functions too (`eventsub_conduits.ts`,
 * `eventsub_subscriptions.ts`, the sessions here), decided without a network
 * so that each one has a test of its own; the simulator's sockets and HTTP
 * routes sit on top (`eventsub.ts`).
 *
 * @module
 */

/** Who makes a call: the app (app access token) or a user (user access token). */
export type Owner = { kind: "app" } | { kind: "user"; userId: string };

/** An answer to send: status and, except for 204, a JSON body. */
export interface Answer {
  status: number;
  body?: unknown;
}

/** The transport of a subscription, as Helix describes it. */
export type SimTransport =
  | { method: "websocket"; session_id: string; connected_at?: string; disconnected_at?: string }
  | { method: "conduit"; conduit_id: string };

/** A subscription the simulator holds. */
export interface SimSubscription {
  id: string;
  type: string;
  condition: Record<string, string>;
  transport: SimTransport;
  /** `enabled`, or why it is not (e.g. `websocket_disconnected`). */
  status: string;
  createdAt: string;
  cost: number;
  /** "app", or the user id whose token created it. */
  owner: string;
}

/** A shard of a conduit. */
export interface SimShard {
  id: string;
  status: string;
  sessionId?: string;
  connectedAt?: string;
  disconnectedAt?: string;
}

/** A conduit. */
export interface SimConduit {
  id: string;
  shards: SimShard[];
  /** Round-robin position of the next event. */
  next: number;
}

/** A WebSocket session as EventSub sees it. */
export interface SimSession {
  id: string;
  connectedAt: number;
  connected: boolean;
  /** A subscription was created on it or it was assigned to a shard. */
  used: boolean;
}

/** Twitch's limits, with the simulator's overridable app budget. */
export const LIMITS = {
  conduitsPerClient: 5,
  shardsPerConduit: 20_000,
  /** A user token over WebSocket: `max_total_cost` across its subscriptions. */
  userMaxCost: 10,
  /** A user token over WebSocket: connections that may hold subscriptions. */
  userConnections: 3,
  /** Enabled subscriptions per WebSocket connection. */
  subscriptionsPerConnection: 300,
  /** Seconds after the welcome within which a session must be used, or closed with 4003. */
  unusedSeconds: 10,
  /** Subscriptions per page of Get EventSub Subscriptions. */
  pageSize: 100,
} as const;

/** The status of a shard without a transport (Twitch has no status of its own for it). */
export const UNASSIGNED = "websocket_disconnected";

/** Everything EventSub holds for one client id. */
export interface Registry {
  readonly clientId: string;
  /** `max_total_cost` of the app's (conduit) subscriptions. */
  readonly maxAppCost: number;
  readonly conduits: Map<string, SimConduit>;
  readonly subscriptions: Map<string, SimSubscription>;
  readonly sessions: Map<string, SimSession>;
  /** Conduit events that found no enabled shard after one retry. */
  dropped: number;
  /** Conduit events delivered on a second shard after the first was disabled. */
  retried: number;
}

/** An empty registry. */
export function createRegistry(options: { clientId: string; maxAppCost: number }): Registry {
  return {
    clientId: options.clientId,
    maxAppCost: options.maxAppCost,
    conduits: new Map(),
    subscriptions: new Map(),
    sessions: new Map(),
    dropped: 0,
    retried: 0,
  };
}

/** A Helix error answer. */
export function helixError(status: number, message: string): Answer {
  const error: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
  };
  return { status, body: { error: error[status] ?? "Error", status, message } };
}

/** A session got its welcome. */
export function sessionOpened(registry: Registry, id: string, now: number): void {
  registry.sessions.set(id, { id, connectedAt: now, connected: true, used: false });
}

/**
 * A session's socket closed with `status` (e.g. `websocket_disconnected`). Its WebSocket
 * subscriptions are disabled but stay listed and counted; its shard is disabled. Returns
 * the shards disabled, for `conduit.shard.disabled`.
 */
export function sessionClosed(
  registry: Registry,
  id: string,
  status: string,
  now: number,
): { conduitId: string; shard: SimShard }[] {
  const session = registry.sessions.get(id);
  if (!session) return [];
  registry.sessions.delete(id);
  for (const sub of registry.subscriptions.values()) {
    if (sub.transport.method === "websocket" && sub.transport.session_id === id) {
      sub.status = status;
      sub.transport.disconnected_at = new Date(now).toISOString();
    }
  }
  const disabled = [];
  for (const conduit of registry.conduits.values()) {
    for (const shard of conduit.shards) {
      if (shard.sessionId !== id) continue;
      shard.status = status;
      shard.disconnectedAt = new Date(now).toISOString();
      disabled.push({ conduitId: conduit.id, shard: { ...shard } });
    }
  }
  return disabled;
}

/** Sessions past `limitMs` (default `unusedSeconds`) since their welcome with neither a subscription nor a shard. */
export function unusedSessions(
  registry: Registry,
  now: number,
  limitMs: number = LIMITS.unusedSeconds * 1000,
): string[] {
  return [...registry.sessions.values()]
    .filter((s) => s.connected && !s.used && now - s.connectedAt >= limitMs)
    .map((s) => s.id);
}

/** The conduit shard a session is assigned to, if any. */
export function shardOf(
  registry: Registry,
  sessionId: string,
): { conduitId: string; shard: SimShard } | null {
  for (const conduit of registry.conduits.values()) {
    const shard = conduit.shards.find((s) => s.sessionId === sessionId && s.status === "enabled");
    if (shard) return { conduitId: conduit.id, shard };
  }
  return null;
}

/** The subscription object of Helix answers and notifications. */
export function describeSubscription(sub: SimSubscription): Record<string, unknown> {
  return {
    id: sub.id,
    status: sub.status,
    type: sub.type,
    version: "1",
    condition: sub.condition,
    transport: sub.transport,
    created_at: sub.createdAt,
    cost: sub.cost,
  };
}

/** A shard as Get Conduit Shards describes it. */
export function describeShard(shard: SimShard): Record<string, unknown> {
  return {
    id: shard.id,
    status: shard.status,
    transport: shard.sessionId === undefined ? { method: "websocket" } : {
      method: "websocket",
      session_id: shard.sessionId,
      connected_at: shard.connectedAt,
      ...(shard.disconnectedAt ? { disconnected_at: shard.disconnectedAt } : {}),
    },
  };
}
