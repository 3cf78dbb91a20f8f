/**
 * The simulator's EventSub: Twitch's WebSocket messages (session_welcome,
 * session_keepalive, notification, session_reconnect) on `/ws`, the
 * subscription endpoints as twurple calls them under `TWURPLE_MOCK_API_PORT`
 * (`POST`, `GET`, `DELETE /mock/eventsub/subscriptions`), and stream.online
 * and stream.offline whenever the churned world starts or ends the stream of
 * a subscribed channel. Tests can drop every socket or ask for a reconnect.
 *
 * @module
 */

import { advanceWorld } from "./churn.ts";
import { indexOfUserId, streamId } from "./data.ts";
import { streamAt, type World } from "./world.ts";
import {
  describeSubscription as describe,
  keepaliveMessage,
  notificationMessage,
  reconnectMessage,
  type SimSubscription,
  welcomeMessage,
} from "./eventsub_messages.ts";

/** Seconds a client may go without a message (Twitch's default is 10). */
const KEEPALIVE_SECONDS = 10;
/** How often the world is looked at for watched channels that went live or offline. */
const WATCH_INTERVAL_MS = 25;
const TYPES = ["stream.online", "stream.offline"];

interface Session {
  id: string;
  socket: WebSocket;
  keepalive: ReturnType<typeof setInterval>;
}

/** A stream of a watched channel that went live or ended, as the world saw it. */
export interface SimStreamEvent {
  type: "stream.online" | "stream.offline";
  userId: string;
  streamId: string;
  /** When the simulator noticed it, in milliseconds since the epoch. */
  at: number;
}

/** The EventSub side of a simulator. */
export interface SimEventSub {
  /** Answers a WebSocket upgrade on `/ws`. */
  upgrade(request: Request): Response;
  /** Answers `/mock/eventsub/subscriptions` (the caller has checked the token). */
  subscriptions(request: Request, url: URL): Promise<Response>;
  /**
   * Closes every socket as a failing server would (code 4000 without a reconnect message);
   * new connections are refused for `refuseMs` after it (default 0).
   */
  dropAll(options?: { refuseMs?: number }): void;
  /** Sends `session_reconnect` on every socket, pointing at this server's `/ws`. */
  reconnectAll(): void;
  /** Every event sent so far, in order. */
  readonly sent: readonly SimStreamEvent[];
  /** Sessions open now. */
  readonly sessions: number;
  /** Stops the watch timer and closes every socket. */
  close(): void;
}

/** Starts the EventSub side over `world`. */
export function createSimEventSub(
  world: World,
  options: { clock: () => number; baseUrl: () => string },
): SimEventSub {
  const sessions = new Map<string, Session>();
  const subscriptions = new Map<string, SimSubscription>();
  /** Per watched user id: the stream index last seen live, or -1. */
  const lastLive = new Map<string, number>();
  const sent: SimStreamEvent[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let refuseUntil = 0;

  function currentStream(userId: string): number {
    const owner = indexOfUserId(world.options.seed, userId);
    if (owner < 0 || owner >= world.size) return -1;
    const index = world.restartedAs.get(owner) ?? owner;
    return world.live[index] === 1 ? index : -1;
  }

  function watchedUsers(): Set<string> {
    return new Set([...subscriptions.values()].map((s) => s.userId));
  }

  function look() {
    const users = watchedUsers();
    if (users.size === 0) return;
    const now = options.clock();
    advanceWorld(world, now, { request: false });
    for (const userId of users) {
      const before = lastLive.get(userId) ?? -1;
      const live = currentStream(userId);
      if (live === before) continue;
      lastLive.set(userId, live);
      if (before >= 0) emit("stream.offline", userId, before, now);
      if (live >= 0) emit("stream.online", userId, live, now);
    }
  }

  function emit(type: SimStreamEvent["type"], userId: string, index: number, at: number) {
    const id = streamId(world.options.seed, index);
    sent.push({ type, userId, streamId: id, at });
    const facts = {
      user: streamAt(world, indexOfUserId(world.options.seed, userId)),
      ...(type === "stream.online" ? { stream: streamAt(world, index) } : {}),
    };
    for (const sub of subscriptions.values()) {
      if (sub.type !== type || sub.userId !== userId) continue;
      const session = sessions.get(sub.sessionId);
      if (session !== undefined) send(session, notificationMessage(sub, facts, at));
    }
  }

  function send(session: Session, message: unknown) {
    try {
      if (session.socket.readyState === WebSocket.OPEN) {
        session.socket.send(JSON.stringify(message));
      }
    } catch { /* closing */ }
  }

  function end(session: Session) {
    clearInterval(session.keepalive);
    sessions.delete(session.id);
    for (const [id, sub] of subscriptions) {
      if (sub.sessionId === session.id) subscriptions.delete(id);
    }
  }

  function ensureTimer() {
    timer ??= setInterval(look, WATCH_INTERVAL_MS);
  }

  return {
    upgrade(request) {
      if (options.clock() < refuseUntil) {
        return new Response("Service Unavailable", { status: 503 });
      }
      const { socket, response } = Deno.upgradeWebSocket(request);
      const moveFrom = new URL(request.url).searchParams.get("session");
      // A client following session_reconnect takes its session (and subscriptions) along.
      const id = moveFrom && sessions.has(moveFrom) ? moveFrom : crypto.randomUUID();
      const session: Session = {
        id,
        socket,
        keepalive: setInterval(
          () => send(session, keepaliveMessage(options.clock())),
          (KEEPALIVE_SECONDS / 2) * 1000,
        ),
      };
      socket.onopen = () => {
        sessions.set(id, session);
        send(session, welcomeMessage(id, options.clock(), KEEPALIVE_SECONDS));
      };
      socket.onclose = () => {
        if (sessions.get(id) === session) end(session);
        else clearInterval(session.keepalive);
      };
      socket.onerror = () => {};
      return response;
    },
    async subscriptions(request, url) {
      if (request.method === "POST") {
        const body = await request.json().catch(() => null);
        const type = body?.type;
        const userId = body?.condition?.broadcaster_user_id;
        const sessionId = body?.transport?.session_id;
        if (!TYPES.includes(type) || typeof userId !== "string") {
          return helix(400, {
            error: "Bad Request",
            status: 400,
            message: "invalid type or condition",
          });
        }
        if (body?.transport?.method !== "websocket" || !sessions.has(sessionId)) {
          return helix(400, {
            error: "Bad Request",
            status: 400,
            message: "websocket transport session does not exist or has already disconnected",
          });
        }
        for (const sub of subscriptions.values()) {
          if (sub.type === type && sub.userId === userId && sub.sessionId === sessionId) {
            return helix(409, {
              error: "Conflict",
              status: 409,
              message: "subscription already exists",
            });
          }
        }
        const sub = {
          id: crypto.randomUUID(),
          type,
          userId,
          sessionId,
          createdAt: new Date(options.clock()).toISOString(),
        };
        // As at Twitch, a new subscription reports changes from now on, not those before it.
        if (!watchedUsers().has(userId)) lastLive.set(userId, currentStream(userId));
        subscriptions.set(sub.id, sub);
        ensureTimer();
        return helix(202, {
          data: [describe(sub)],
          total: subscriptions.size,
          total_cost: 0,
          max_total_cost: 10,
        });
      }
      if (request.method === "GET") {
        const data = [...subscriptions.values()].map(describe);
        return helix(200, {
          data,
          total: data.length,
          total_cost: 0,
          max_total_cost: 10,
          pagination: {},
        });
      }
      if (request.method === "DELETE") {
        const id = url.searchParams.get("id") ?? "";
        if (!subscriptions.delete(id)) {
          return helix(404, { error: "Not Found", status: 404, message: "subscription not found" });
        }
        return new Response(null, { status: 204 });
      }
      return helix(405, { error: "Method Not Allowed", status: 405, message: "" });
    },
    dropAll(drop = {}) {
      refuseUntil = options.clock() + (drop.refuseMs ?? 0);
      for (const session of [...sessions.values()]) {
        end(session);
        try {
          session.socket.close(4000, "internal server error");
        } catch { /* closing */ }
      }
    },
    reconnectAll() {
      for (const session of sessions.values()) {
        // Events still go to the old socket until the client opens the new one.
        const url = `${options.baseUrl()}/ws?session=${session.id}`;
        send(session, reconnectMessage(session.id, url, options.clock()));
      }
    },
    get sent() {
      return sent;
    },
    get sessions() {
      return sessions.size;
    },
    close() {
      clearInterval(timer);
      for (const session of [...sessions.values()]) {
        end(session);
        try {
          session.socket.close(1001, "going away");
        } catch { /* closing */ }
      }
    },
  };
}

function helix(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}
