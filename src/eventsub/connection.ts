/**
 * One EventSub WebSocket session kept alive: welcome, keepalive timeout,
 * `session_reconnect` (the new socket is opened before the old one is
 * closed, and subscriptions carry over), revocations, and reconnecting with
 * backoff after a lost connection (a new session: subscribe again). The
 * socket, the timers and randomness come in as parameters, so every path can
 * be driven by a test.
 *
 * Not `@twurple/eventsub-ws`: it routes a notification by the id of a
 * subscription it created itself, so the events of a server that needs no
 * subscription (the Twitch CLI's mock without `-S`) are dropped as
 * "from unknown event", and its newest release lags our `@twurple/api`.
 *
 * @module
 */

import { type EventSubMessage, parseMessage, type Subscription } from "./messages.ts";
import { backoffDelay } from "../util/retry.ts";

/** What the connection needs of a WebSocket (the standard one has it all). */
export interface SocketLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

/** Where the connection is. */
export type ConnectionState = "connecting" | "connected" | "disconnected" | "stopped";

/** The connection's edges and callbacks. */
export interface ConnectionOptions {
  /** The server's URL, e.g. `wss://eventsub.wss.twitch.tv/ws`. */
  url: string;
  /** Opens a socket (default: `new WebSocket(url)`). */
  openSocket?: (url: string) => SocketLike;
  /** A new session began: create the subscriptions on it. Not called after `session_reconnect`. */
  onSession: (sessionId: string) => Promise<void>;
  /** A notification arrived (each message id once). `receivedAt` is the local clock. */
  onNotification: (
    message: Extract<EventSubMessage, { kind: "notification" }>,
    receivedAt: number,
  ) => void;
  /** Twitch revoked a subscription. */
  onRevocation?: (subscription: Subscription) => void;
  /** The state changed; `reason` says why (for the log). */
  onState?: (state: ConnectionState, reason: string) => void;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Upper bound of the first reconnect wait (default 1000 ms), doubling to `reconnectCapMs`. */
  reconnectBaseMs?: number;
  /** Upper bound of any reconnect wait (default 30 000 ms). */
  reconnectCapMs?: number;
  /**
   * Extra time past `keepalive_timeout_seconds` before the connection counts as lost (default:
   * half the timeout, at least 5000 ms). Twitch sends a keepalive only after that much
   * silence, so without a margin ordinary jitter would count as a loss.
   */
  keepaliveGraceMs?: number;
  /**
   * How long a session must have lasted for its loss to start the backoff afresh (default
   * 60 000 ms). A server that closes every session soon after its welcome (4003: unused)
   * thus meets growing waits, not a reconnect every few seconds.
   */
  stableMs?: number;
  /** How long the server may take to send `session_welcome` (default 10 000 ms). */
  welcomeTimeoutMs?: number;
  /** Randomness for the backoff jitter (default `Math.random`). */
  random?: () => number;
}

/** A running connection. */
export interface Connection {
  readonly state: ConnectionState;
  /** The current session's id, or null between sessions. */
  readonly sessionId: string | null;
  /** Closes the socket for good. */
  stop(): void;
}

/** Message ids remembered to drop Twitch's occasional re-deliveries. */
const REMEMBERED_IDS = 1000;

/** Opens the connection and keeps it open until `stop()`. */
export function connectEventSub(options: ConnectionOptions): Connection {
  const open = options.openSocket ?? ((url: string) => new WebSocket(url));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const baseMs = options.reconnectBaseMs ?? 1000;
  const capMs = options.reconnectCapMs ?? 30_000;
  const graceOf = (keepaliveMs: number) =>
    options.keepaliveGraceMs ?? Math.max(5000, keepaliveMs / 2);
  const stableMs = options.stableMs ?? 60_000;
  const welcomeMs = options.welcomeTimeoutMs ?? 10_000;

  let state: ConnectionState = "connecting";
  let sessionId: string | null = null;
  /** The socket whose session is current (or is being opened). */
  let active: SocketLike | null = null;
  /** The socket opened for a `session_reconnect`, until its welcome. */
  let migration: SocketLike | null = null;
  let failures = 0;
  /** When the current session was welcomed (not renewed by a migration). */
  let welcomedAt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  const seen = new Set<string>();

  function setState(next: ConnectionState, reason: string) {
    if (state === "stopped") return;
    state = next;
    options.onState?.(next, reason);
  }

  function remember(id: string): boolean {
    if (id === "") return true;
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > REMEMBERED_IDS) seen.delete(seen.values().next().value!);
    return true;
  }

  /** Opens a socket; `migrating` is the old socket when this follows a `session_reconnect`. */
  function start(url: string, migrating: SocketLike | null) {
    let socket: SocketLike;
    try {
      socket = open(url);
    } catch (error) {
      lost(`cannot open ${url}: ${(error as Error).message}`);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let welcomed = false;
    let done = false;
    const arm = (ms: number, reason: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => drop(reason), ms);
    };
    let keepaliveMs = welcomeMs;
    arm(welcomeMs, "no session_welcome in time");

    function silence() {
      done = true;
      clearTimeout(timer);
      socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1000);
      } catch { /* already closed */ }
    }

    function drop(reason: string) {
      if (done) return;
      silence();
      if (socket === active || (migrating !== null && !welcomed)) lost(reason);
    }

    socket.onmessage = (event) => {
      if (done || typeof event.data !== "string") return;
      const receivedAt = now();
      const message = parseMessage(event.data);
      switch (message.kind) {
        case "welcome": {
          keepaliveMs = message.keepaliveMs + graceOf(message.keepaliveMs);
          welcomed = true;
          const old = active;
          active = socket;
          sessionId = message.sessionId;
          if (migrating === null) welcomedAt = now();
          if (migrating !== null) {
            migration = null;
            // Subscriptions moved with the session: close the old socket quietly.
            if (old !== null && old !== socket) retire(old);
            setState("connected", "reconnected as asked by the server");
          } else {
            setState("connected", "session started");
            options.onSession(message.sessionId).catch(() => {});
          }
          break;
        }
        case "reconnect":
          if (socket === active) start(message.reconnectUrl, socket);
          break;
        case "notification":
          if (remember(message.id)) options.onNotification(message, receivedAt);
          break;
        case "revocation":
          if (remember(message.id)) options.onRevocation?.(message.subscription);
          break;
      }
      if (!done) arm(keepaliveMs, "no message within the keepalive timeout");
    };
    socket.onclose = (event) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const reason = `closed by the server (${event.code}${
        event.reason ? ` ${event.reason}` : ""
      })`;
      if (socket === active && migration !== null) {
        // Twitch may close the old socket before the new one is welcomed: wait for that welcome.
        retire(socket);
        return;
      }
      if (socket === active || (migrating !== null && !welcomed) || active === null) lost(reason);
    };
    socket.onerror = () => {};
    retirers.set(socket, silence);
    if (migrating === null) active = socket;
    else migration = socket;
  }

  const retirers = new Map<SocketLike, () => void>();
  function retire(socket: SocketLike) {
    retirers.get(socket)?.();
    retirers.delete(socket);
  }

  function lost(reason: string) {
    if (state === "stopped") return;
    // Whatever was open (the old socket, a migration under way) goes: a new session starts.
    for (const open of [...retirers.keys()]) retire(open);
    active = null;
    migration = null;
    // A session that lasted was healthy: its loss starts the backoff afresh.
    if (sessionId !== null && now() - welcomedAt >= stableMs) failures = 0;
    sessionId = null;
    failures++;
    const waitMs = backoffDelay(failures, { baseMs, capMs, random });
    setState("disconnected", `${reason}; reconnecting in ${waitMs} ms`);
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => {
      if (state === "stopped") return;
      setState("connecting", "reconnecting");
      start(options.url, null);
    }, waitMs);
  }

  start(options.url, null);
  return {
    get state() {
      return state;
    },
    get sessionId() {
      return sessionId;
    },
    stop() {
      if (state === "stopped") return;
      options.onState?.("stopped", "stopped");
      state = "stopped";
      clearTimeout(reconnectTimer);
      for (const socket of [...retirers.keys()]) retire(socket);
      active = null;
      sessionId = null;
    },
  };
}
