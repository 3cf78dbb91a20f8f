/**
 * Real time for a watchlist: the EventSub connection, the subscriptions on
 * each new session, and the watcher that turns events into records. Polling
 * goes on beside it and does not depend on it: a lost connection only makes
 * the watched channels as slow as the rest until it is back.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { StreamSource } from "../helix/client.ts";
import type { LiveState } from "../scan/endings.ts";
import type { StreamRecord } from "../scan/record.ts";
import type { Selection } from "../scan/selection.ts";
import type { Metrics } from "../ops/metrics.ts";
import { connectEventSub, type Connection, type SocketLike } from "./connection.ts";
import { WatchLedger } from "./ledger.ts";
import { streamEvent, WATCHED_EVENTS } from "./messages.ts";
import type { EventSubApi } from "./twitch.ts";
import { Watcher } from "./watcher.ts";

export { WatchLedger } from "./ledger.ts";

const log = getLogger(["datagen", "eventsub"]);

/** What the watchlist needs. */
export interface EventSubOptions {
  url: string;
  logins: readonly string[];
  api: EventSubApi;
  source: StreamSource;
  send: (records: StreamRecord[]) => Promise<void>;
  live: () => LiveState;
  ledger: WatchLedger;
  metrics: Metrics;
  selection?: Selection;
  openSocket?: (url: string) => SocketLike;
}

/** The running watchlist. */
export interface EventSub {
  readonly connection: Connection | null;
  stop(): void;
}

/** Resolves the watchlist to user ids and keeps an EventSub connection for it until stopped. */
export function startEventSub(options: EventSubOptions): EventSub {
  const { metrics } = options;
  let userIds: string[] | null = null;
  let connection: Connection | null = null;
  let stopped = false;

  async function resolveUsers(): Promise<string[]> {
    if (userIds !== null) return userIds;
    const ids = await options.api.userIds(options.logins);
    const unknown = options.logins.filter((l) => !ids.has(l));
    if (unknown.length > 0) {
      log.warn("WATCH_USER_LOGINS names channels Twitch does not know: {logins}", {
        logins: unknown.join(","),
      });
    }
    userIds = [...ids.values()];
    return userIds;
  }

  const watcher = new Watcher({
    source: options.source,
    send: options.send,
    live: options.live,
    ledger: options.ledger,
    selection: options.selection,
    onProduced: (event, records, ackedAt) => {
      const sentAt = Number.isFinite(event.sentAt) ? event.sentAt : event.receivedAt;
      metrics.eventsubLatency.observe({ type: event.type }, Math.max(0, ackedAt - sentAt) / 1000);
      const tombstones = records.filter((r) => r.value === null).length;
      if (tombstones > 0) metrics.tombstones.inc({ reason: "offline" }, tombstones);
      if (records.length > tombstones) metrics.records.inc(records.length - tombstones);
    },
  });

  async function subscribe(sessionId: string) {
    try {
      const ids = await resolveUsers();
      const results = await Promise.allSettled(
        ids.flatMap((id) =>
          WATCHED_EVENTS.map((type) => options.api.subscribe(type, id, sessionId))
        ),
      );
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      if (failed.length > 0) {
        log.warn("{failed} of {all} EventSub subscriptions failed: {error}", {
          failed: failed.length,
          all: results.length,
          error: (failed[0].reason as Error).message,
        });
      }
      log.info("EventSub session {sessionId}: subscribed to {count} channels", {
        sessionId,
        count: ids.length,
        failed: failed.length,
      });
    } catch (error) {
      log.warn("EventSub subscriptions failed: {error}; polling covers the watchlist", {
        error: (error as Error).message,
      });
    }
  }

  connection = connectEventSub({
    url: options.url,
    openSocket: options.openSocket,
    onSession: subscribe,
    onNotification: (message, receivedAt) => {
      metrics.eventsubEvents.inc({ type: message.type });
      const event = streamEvent(message, receivedAt);
      if (event === null) return;
      // Without subscriptions (a test server) every channel's events arrive: keep the watchlist's.
      if (userIds !== null && !userIds.includes(event.userId)) {
        log.debug("Ignored {type} of unwatched user {userId}", { ...event });
        return;
      }
      log.debug("{type} of {userLogin} ({userId}) arrived", { ...event });
      watcher.handle(event).then(
        (outcome) =>
          log.info("{type} of {userLogin} ({userId}): {result}", {
            ...event,
            result: outcome.skipped ??
              `produced ${outcome.records.map((r) => r.key).join(",")}`,
          }),
        (error) =>
          log.warn("{type} of {userId} not produced ({error}); the next scan covers it", {
            ...event,
            error: (error as Error).message,
          }),
      );
    },
    onRevocation: (subscription) => {
      metrics.eventsubEvents.inc({ type: "revocation" });
      log.warn(
        "Twitch revoked the {type} subscription of user {userId} ({status}); polling covers it",
        {
          type: subscription.type,
          userId: subscription.condition.broadcaster_user_id ?? "",
          status: subscription.status,
        },
      );
    },
    onState: (state, reason) => {
      metrics.eventsubConnected.set(state === "connected" ? 1 : 0);
      if (stopped) return;
      if (state === "disconnected") log.warn("EventSub connection lost: {reason}", { reason });
      else log.info("EventSub {state}: {reason}", { state, reason });
    },
  });
  void resolveUsers().catch(() => {});
  return {
    get connection() {
      return connection;
    },
    stop() {
      stopped = true;
      watcher.close();
      connection?.stop();
    },
  };
}
