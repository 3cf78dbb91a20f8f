/**
 * EventSub over a Conduit on the app's credentials: one conduit for the
 * client id, found again on every start (never one leaked per start), and
 * `shards` WebSocket connections, each assigned to its shard as soon as its
 * session is welcomed (Twitch closes an unassigned session after 10 s with
 * 4003). Subscriptions belong to the conduit, not to a socket: a reconnect
 * reassigns its shard and subscribes nothing again. A refused assignment is
 * retried with growing waits while its session lives; `conduit.shard.disabled`
 * makes a shard whose socket is still ours be assigned again.
 *
 * @module
 */

import { backoffDelay, sleep } from "../util/retry.ts";
import {
  connectEventSub,
  type Connection,
  type ConnectionState,
  type SocketLike,
} from "./connection.ts";
import type { EventSubMessage, Subscription } from "./messages.ts";
import type { Conduit, EventSubApi } from "./twitch.ts";

type Notification = Extract<EventSubMessage, { kind: "notification" }>;

/** The conduit's edges and callbacks. */
export interface ConduitOptions {
  api: EventSubApi;
  /** The WebSocket server, e.g. `wss://eventsub.wss.twitch.tv/ws`. */
  url: string;
  /** WebSocket shards to keep. */
  shards: number;
  /** `keepalive_timeout_seconds` asked of the server (default 30). */
  keepaliveSeconds?: number;
  onNotification: (message: Notification, receivedAt: number) => void;
  onRevocation?: (subscription: Subscription) => void;
  /** A shard's connection changed state. */
  onState?: (shard: number, state: ConnectionState, reason: string) => void;
  /** A shard was assigned to a session, or refused (`refused` says why). */
  onAssign?: (shard: number, sessionId: string, refused?: string) => void;
  openSocket?: (url: string) => SocketLike;
  random?: () => number;
  /** First wait after a refused assignment or a failed call (default 1000 ms), doubling. */
  retryBaseMs?: number;
  /** Longest such wait (default 60 000 ms). */
  retryCapMs?: number;
  /** Passed to each connection. */
  connection?: { reconnectBaseMs?: number; reconnectCapMs?: number; stableMs?: number };
}

/** The running conduit. */
export interface ConduitTransport {
  /** The conduit's id once found or created. */
  readonly ready: Promise<string>;
  /** Shards assigned to a live session of ours now. */
  readonly assigned: number;
  /** The connections, one a shard. */
  readonly connections: readonly Connection[];
  stop(): void;
}

/**
 * The client id's conduit: the first one Twitch lists (resized to `shards` if need be),
 * or a new one when there is none. The service owns its client id's conduits.
 */
export async function findConduit(api: EventSubApi, shards: number): Promise<Conduit> {
  const existing = (await api.conduits()).sort((a, b) => a.id.localeCompare(b.id));
  if (existing.length === 0) return await api.createConduit(shards);
  const conduit = existing[0];
  return conduit.shardCount === shards ? conduit : await api.updateConduit(conduit.id, shards);
}

/** Finds or creates the conduit, then opens and assigns its shards until stopped. */
export function startConduit(options: ConduitOptions): ConduitTransport {
  const random = options.random ?? Math.random;
  const baseMs = options.retryBaseMs ?? 1000;
  const capMs = options.retryCapMs ?? 60_000;
  const stopping = new AbortController();
  const connections: Connection[] = [];
  /** Per shard: the session it is assigned to now. */
  const assignedTo = new Map<number, string>();
  let conduitId = "";

  const wait = (attempt: number) =>
    sleep(backoffDelay(attempt, { baseMs, capMs, random }), stopping.signal).catch(() => {});

  async function untilDone<T>(what: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await what();
      } catch (error) {
        if (stopping.signal.aborted) throw error;
        options.onState?.(-1, "disconnected", (error as Error).message);
        await wait(attempt);
      }
    }
  }

  /** Assigns `shard` to `sessionId`, retrying with growing waits while that session lives. */
  async function assign(shard: number, sessionId: string) {
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      if (connections[shard]?.sessionId !== sessionId) return;
      let refused: string;
      try {
        const answer = await options.api.assignShards(conduitId, [{
          id: String(shard),
          sessionId,
        }]);
        if (answer.assigned.includes(String(shard))) {
          assignedTo.set(shard, sessionId);
          options.onAssign?.(shard, sessionId);
          return;
        }
        refused = answer.refused[0]?.message ?? "not assigned";
      } catch (error) {
        refused = (error as Error).message;
      }
      options.onAssign?.(shard, sessionId, refused);
      await wait(attempt);
    }
  }

  function onNotification(message: Notification, receivedAt: number) {
    if (message.type !== "conduit.shard.disabled") {
      options.onNotification(message, receivedAt);
      return;
    }
    if (message.event.conduit_id !== conduitId) return;
    const shard = Number(message.event.shard_id);
    assignedTo.delete(shard);
    const live = connections[shard]?.sessionId;
    if (live) void assign(shard, live);
  }

  const keepalive = options.keepaliveSeconds ?? 30;
  const url = `${options.url}${
    options.url.includes("?") ? "&" : "?"
  }keepalive_timeout_seconds=${keepalive}`;
  const ready = untilDone(async () => {
    const conduit = await findConduit(options.api, options.shards);
    conduitId = conduit.id;
    // Cost 0: tells when Twitch disables one of our shards.
    await options.api.subscribe(
      "conduit.shard.disabled",
      { client_id: options.api.clientId, conduit_id: conduitId },
      conduitId,
    ).catch(() => {});
    return conduitId;
  });
  ready.then(() => {
    if (stopping.signal.aborted) return;
    for (let shard = 0; shard < options.shards; shard++) {
      connections.push(connectEventSub({
        url,
        openSocket: options.openSocket,
        random,
        ...options.connection,
        onSession: (sessionId) => {
          assignedTo.delete(shard);
          return assign(shard, sessionId);
        },
        onNotification,
        onRevocation: options.onRevocation,
        onState: (state, reason) => {
          if (state !== "connected") assignedTo.delete(shard);
          options.onState?.(shard, state, reason);
        },
      }));
    }
  }, () => {});

  return {
    ready,
    get assigned() {
      let live = 0;
      for (const [shard, session] of assignedTo) {
        if (connections[shard]?.sessionId === session) live++;
      }
      return live;
    },
    connections,
    stop() {
      stopping.abort();
      for (const c of connections) c.stop();
    },
  };
}
