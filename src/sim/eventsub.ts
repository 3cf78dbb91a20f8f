/**
 * The simulator's EventSub: Twitch's WebSocket messages (session_welcome,
 * session_keepalive, notification, revocation, session_reconnect) on `/ws`,
 * the subscription and conduit endpoints as twurple calls them under
 * `TWURPLE_MOCK_API_PORT` (`/mock/eventsub/subscriptions`,
 * `/mock/eventsub/conduits`, `/mock/eventsub/conduits/shards`), and
 * stream.online and stream.offline whenever the churned world starts or ends
 * the stream of a subscribed channel. What is refused and what it costs is
 * decided by the registry (`eventsub_registry.ts`); this module adds the
 * sockets and the clock: keepalives only after `keepalive_timeout_seconds`
 * of silence, code 4003 for a session left unused, `conduit.shard.disabled`
 * when a shard's socket goes. Tests can drop every socket, ask for a
 * reconnect, or revoke subscriptions.
 *
 * @module
 */

import { advanceWorld } from "./churn.ts";
import { indexOfUserId, streamId } from "./data.ts";
import { streamAt, type World } from "./world.ts";
import {
  keepaliveMessage,
  notificationMessage,
  reconnectMessage,
  revocationMessage,
  shardDisabledMessage,
  welcomeMessage,
} from "./eventsub_messages.ts";
import {
  type Answer,
  createRegistry,
  helixError,
  LIMITS,
  type Owner,
  type Registry,
  sessionClosed,
  sessionOpened,
  type SimShard,
  type SimSubscription,
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

/** Twitch's default, and bounds, of `keepalive_timeout_seconds`. */
const KEEPALIVE = { default: 10, min: 10, max: 600 } as const;
/** How often the world, keepalives and unused sessions are looked at. */
const TICK_MS = 25;
const STREAM_TYPES = new Set(["stream.online", "stream.offline"]);

interface Session {
  id: string;
  socket: WebSocket;
  keepaliveMs: number;
  lastSentAt: number;
}

/** A stream of a watched channel that went live or ended, as the world saw it. */
export interface SimStreamEvent {
  type: "stream.online" | "stream.offline";
  userId: string;
  streamId: string;
  /** When the simulator noticed it, in milliseconds since the epoch. */
  at: number;
}

/** Options of the EventSub side. */
export interface SimEventSubOptions {
  clock: () => number;
  baseUrl: () => string;
  clientId: string;
  /** The app's `max_total_cost` (Twitch: 10,000). */
  maxAppCost: number;
  /** How long a session may stay neither subscribed nor assigned (Twitch: 10 s). */
  unusedMs?: number;
}

/** The EventSub side of a simulator. */
export interface SimEventSub {
  /** Answers a WebSocket upgrade on `/ws`. */
  upgrade(request: Request): Response;
  /** Answers `/mock/eventsub/...` for `owner` (the caller has checked the token). */
  handle(request: Request, url: URL, owner: Owner): Promise<Response>;
  /**
   * Closes every socket as a failing server would (code 4000 without a reconnect message);
   * new connections are refused for `refuseMs` after it (default 0).
   */
  dropAll(options?: { refuseMs?: number }): void;
  /** Sends `session_reconnect` on every socket, pointing at this server's `/ws`. */
  reconnectAll(): void;
  /**
   * Disables shard `shardId` of every conduit with `status` (default
   * `websocket_failed_ping_pong`), as Twitch does when it finds a shard's transport failing,
   * and tells the `conduit.shard.disabled` subscribers; the session's socket stays open.
   * Returns how many shards it disabled.
   */
  disableShard(shardId: string, status?: string): number;
  /** Revokes the subscriptions `which` picks, with `status` (default `user_removed`). */
  revoke(which: (sub: SimSubscription) => boolean, status?: string): number;
  /** Every event sent so far, in order. */
  readonly sent: readonly SimStreamEvent[];
  /** Sessions open now. */
  readonly sessions: number;
  /** Conduits, shards, subscriptions, and the counts of retried and dropped events. */
  readonly registry: Readonly<Registry>;
  /** Stops the timer and closes every socket. */
  close(): void;
}

/** Starts the EventSub side over `world`. */
export function createSimEventSub(world: World, options: SimEventSubOptions): SimEventSub {
  const registry = createRegistry({ clientId: options.clientId, maxAppCost: options.maxAppCost });
  const unusedMs = options.unusedMs ?? LIMITS.unusedSeconds * 1000;
  const sessions = new Map<string, Session>();
  /**
   * Per watched user id: the stream last seen live (index and id), or index -1. The id is
   * kept because churn may give the index to another broadcast before the end is noticed.
   */
  const lastLive = new Map<string, { index: number; id: string }>();
  const sent: SimStreamEvent[] = [];
  let refuseUntil = 0;
  /** Runs while there is a session or a subscription: a simulator without EventSub pays nothing. */
  let timer: ReturnType<typeof setInterval> | undefined;
  const ensureTimer = () => timer ??= setInterval(tick, TICK_MS);

  function currentStream(userId: string): number {
    const owner = indexOfUserId(world.options.seed, userId);
    if (owner < 0 || owner >= world.size) return -1;
    const index = world.restartedAs.get(owner) ?? owner;
    return world.live[index] === 1 ? index : -1;
  }

  function watchedUsers(): Set<string> {
    const users = new Set<string>();
    for (const sub of registry.subscriptions.values()) {
      if (STREAM_TYPES.has(sub.type)) users.add(sub.condition.broadcaster_user_id);
    }
    return users;
  }

  function tick() {
    if (sessions.size === 0 && registry.subscriptions.size === 0) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    const now = options.clock();
    look(now);
    for (const session of sessions.values()) {
      if (now - session.lastSentAt >= session.keepaliveMs) send(session, keepaliveMessage(now));
    }
    for (const id of unusedSessions(registry, now, unusedMs)) {
      const session = sessions.get(id);
      if (session) close(session, 4003, "connection unused", "websocket_connection_unused");
    }
  }

  function look(now: number) {
    const users = watchedUsers();
    for (const userId of lastLive.keys()) if (!users.has(userId)) lastLive.delete(userId);
    if (users.size === 0) return;
    advanceWorld(world, now, { request: false });
    for (const userId of users) {
      const index = currentStream(userId);
      const live = { index, id: index >= 0 ? streamId(world.options.seed, index) : "" };
      const before = lastLive.get(userId);
      lastLive.set(userId, live);
      // As at Twitch, a new subscription reports changes from now on, not those before it.
      if (before === undefined || (live.index === before.index && live.id === before.id)) continue;
      if (before.index >= 0) emit("stream.offline", userId, before.index, before.id, now);
      if (live.index >= 0) emit("stream.online", userId, live.index, live.id, now);
    }
  }

  function emit(
    type: SimStreamEvent["type"],
    userId: string,
    index: number,
    id: string,
    at: number,
  ) {
    sent.push({ type, userId, streamId: id, at });
    const facts = {
      user: streamAt(world, indexOfUserId(world.options.seed, userId)),
      ...(type === "stream.online" ? { stream: streamAt(world, index) } : {}),
    };
    for (const sub of registry.subscriptions.values()) {
      if (sub.type !== type || sub.condition.broadcaster_user_id !== userId) continue;
      deliver(sub, notificationMessage(sub, facts, at));
    }
  }

  function deliver(sub: SimSubscription, message: unknown) {
    const target = routeEvent(registry, sub);
    const session = target === null ? undefined : sessions.get(target);
    if (session) send(session, message);
  }

  function send(session: Session, message: unknown) {
    session.lastSentAt = options.clock();
    try {
      if (session.socket.readyState === WebSocket.OPEN) {
        session.socket.send(JSON.stringify(message));
      }
    } catch { /* closing */ }
  }

  /** The session is over: its subscriptions and shard are disabled, and subscribers told. */
  function end(session: Session, status: string) {
    sessions.delete(session.id);
    const now = options.clock();
    for (const { conduitId, shard } of sessionClosed(registry, session.id, status, now)) {
      shardDisabled(conduitId, shard, now);
    }
  }

  function shardDisabled(conduitId: string, shard: SimShard, at: number) {
    for (const sub of registry.subscriptions.values()) {
      if (sub.type !== "conduit.shard.disabled") continue;
      const only = sub.condition.conduit_id;
      if (only !== undefined && only !== conduitId) continue;
      deliver(sub, shardDisabledMessage(sub, conduitId, shard, at));
    }
  }

  function close(session: Session, code: number, reason: string, status: string) {
    end(session, status);
    try {
      session.socket.close(code, reason);
    } catch { /* closing */ }
  }

  async function route(request: Request, url: URL, owner: Owner): Promise<Answer> {
    const path = url.pathname.replace(/^\/mock\/eventsub/, "");
    const now = options.clock();
    const body = () => request.json().catch(() => null);
    if (path === "/subscriptions") {
      if (request.method === "POST") return createSubscription(registry, owner, await body(), now);
      if (request.method === "GET") return listSubscriptions(registry, owner, url.searchParams);
      if (request.method === "DELETE") {
        return deleteSubscription(registry, owner, url.searchParams.get("id") ?? "");
      }
      return helixError(405, "");
    }
    // Conduits take an app access token only.
    if (owner.kind !== "app") {
      return helixError(401, "the conduit endpoints need an app access token");
    }
    if (path === "/conduits") {
      if (request.method === "POST") return createConduit(registry, await body());
      if (request.method === "GET") return listConduits(registry);
      if (request.method === "PATCH") return updateConduit(registry, await body());
      if (request.method === "DELETE") {
        return deleteConduit(registry, url.searchParams.get("id") ?? "");
      }
      return helixError(405, "");
    }
    if (path === "/conduits/shards") {
      if (request.method === "GET") {
        return listShards(
          registry,
          url.searchParams.get("conduit_id") ?? "",
          url.searchParams.get("status") ?? undefined,
        );
      }
      if (request.method === "PATCH") return updateShards(registry, await body());
      return helixError(405, "");
    }
    return helixError(404, "");
  }

  return {
    upgrade(request) {
      if (options.clock() < refuseUntil) {
        return new Response("Service Unavailable", { status: 503 });
      }
      const params = new URL(request.url).searchParams;
      const keepalive = keepaliveSeconds(params.get("keepalive_timeout_seconds"));
      if (keepalive === null) {
        return new Response("keepalive_timeout_seconds must be a number", { status: 400 });
      }
      const { socket, response } = Deno.upgradeWebSocket(request);
      const moveFrom = params.get("session");
      // A client following session_reconnect takes its session (subscriptions, shard) along.
      const moved = moveFrom !== null && sessions.has(moveFrom);
      const id = moved ? moveFrom : crypto.randomUUID();
      const session: Session = {
        id,
        socket,
        keepaliveMs: moved ? sessions.get(id)!.keepaliveMs : keepalive * 1000,
        lastSentAt: options.clock(),
      };
      socket.onopen = () => {
        ensureTimer();
        if (!moved) sessionOpened(registry, id, options.clock());
        sessions.set(id, session);
        send(session, welcomeMessage(id, options.clock(), session.keepaliveMs / 1000));
      };
      socket.onclose = () => {
        if (sessions.get(id) === session) end(session, "websocket_disconnected");
      };
      socket.onerror = () => {};
      return response;
    },
    async handle(request, url, owner) {
      const answer = await route(request, url, owner);
      ensureTimer();
      if (answer.status === 204) return new Response(null, { status: 204 });
      return new Response(JSON.stringify(answer.body), {
        status: answer.status,
        headers: { "Content-Type": "application/json; charset=utf-8" },
      });
    },
    dropAll(drop = {}) {
      refuseUntil = options.clock() + (drop.refuseMs ?? 0);
      for (const session of [...sessions.values()]) {
        close(session, 4000, "internal server error", "websocket_internal_error");
      }
    },
    reconnectAll() {
      for (const session of sessions.values()) {
        // Events still go to the old socket until the client opens the new one.
        const url = `${options.baseUrl()}/ws?session=${session.id}`;
        send(session, reconnectMessage(session.id, url, options.clock()));
      }
    },
    disableShard(shardId, status = "websocket_failed_ping_pong") {
      const now = options.clock();
      let count = 0;
      for (const conduit of registry.conduits.values()) {
        const shard = conduit.shards.find((s) => s.id === shardId && s.status === "enabled");
        if (!shard) continue;
        shard.status = status;
        shard.disconnectedAt = new Date(now).toISOString();
        shardDisabled(conduit.id, { ...shard }, now);
        count++;
      }
      return count;
    },
    revoke(which, status = "user_removed") {
      let count = 0;
      for (const sub of [...registry.subscriptions.values()]) {
        if (!which(sub)) continue;
        // Told on the transport it was on, as a notification would be; then it is gone.
        const target = routeEvent(registry, sub);
        const revoked = revokeSubscription(registry, sub.id, status)!;
        const session = target === null ? undefined : sessions.get(target);
        if (session) send(session, revocationMessage(revoked, options.clock()));
        count++;
      }
      return count;
    },
    get sent() {
      return sent;
    },
    get sessions() {
      return sessions.size;
    },
    get registry() {
      return registry;
    },
    close() {
      clearInterval(timer);
      for (const session of [...sessions.values()]) {
        close(session, 1001, "going away", "websocket_disconnected");
      }
    },
  };
}

/** `keepalive_timeout_seconds`: Twitch's default when absent, clamped when out of range. */
function keepaliveSeconds(value: string | null): number | null {
  if (value === null || value === "") return KEEPALIVE.default;
  const n = Number(value);
  if (!Number.isFinite(n)) return null;
  return Math.min(KEEPALIVE.max, Math.max(KEEPALIVE.min, Math.round(n)));
}
