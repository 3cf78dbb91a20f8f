/**
 * Real time for a watchlist: a conduit with WebSocket shards on the app's
 * credentials, its subscriptions kept equal to the watched channels, and the
 * watcher that turns events into records. Polling goes on beside it and does
 * not depend on it: a lost shard only makes the channels as slow as the rest
 * until it is back.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { StreamSource } from "../helix/client.ts";
import type { LiveState } from "../scan/endings.ts";
import type { StreamRecord } from "../scan/record.ts";
import type { Selection } from "../scan/selection.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { SocketLike } from "./connection.ts";
import { type ConduitTransport, startConduit } from "./conduit.ts";
import { reconcileSubscriptions } from "./subscriptions.ts";
import { WatchLedger } from "./ledger.ts";
import { streamEvent } from "./messages.ts";
import type { EventSubApi } from "./twitch.ts";
import { Watcher } from "./watcher.ts";

export { WatchLedger } from "./ledger.ts";

const log = getLogger(["datagen", "eventsub"]);

/** What the watchlist needs. */
export interface EventSubOptions {
  url: string;
  logins: readonly string[];
  api: EventSubApi;
  /** WebSocket shards of the conduit. */
  shards: number;
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
  readonly conduit: ConduitTransport;
  /** Channels with both events subscribed on the conduit. */
  readonly subscribed: ReadonlySet<string>;
  stop(): void;
}

/** Resolves the watchlist to user ids and keeps a conduit subscribed to them until stopped. */
export function startEventSub(options: EventSubOptions): EventSub {
  const { metrics } = options;
  let userIds: string[] | null = null;
  let subscribed: ReadonlySet<string> = new Set();
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

  async function reconcile(conduitId: string) {
    const ids = await resolveUsers();
    const result = await reconcileSubscriptions(options.api, conduitId, ids);
    subscribed = result.subscribed;
    const refusals = new Map<string, number>();
    for (const r of result.refused) refusals.set(r.reason, (refusals.get(r.reason) ?? 0) + 1);
    for (const [reason, count] of refusals) {
      log.warn("EventSub refused {count} subscriptions: {reason}", { count, reason });
    }
    log.info(
      "EventSub conduit {conduitId}: {subscribed} of {wanted} channels subscribed, cost {totalCost} of {maxTotalCost} ({created} created, {deleted} deleted)",
      {
        conduitId,
        wanted: ids.length,
        subscribed: subscribed.size,
        totalCost: result.totalCost,
        maxTotalCost: result.maxTotalCost,
        created: result.created,
        deleted: result.deleted,
      },
    );
  }

  const conduit = startConduit({
    api: options.api,
    url: options.url,
    shards: options.shards,
    openSocket: options.openSocket,
    onNotification: (message, receivedAt) => {
      metrics.eventsubEvents.inc({ type: message.type });
      const event = streamEvent(message, receivedAt);
      if (event === null) return;
      if (userIds !== null && !subscribed.has(event.userId) && !userIds.includes(event.userId)) {
        log.debug("Ignored {type} of unwatched user {userId}", { ...event });
        return;
      }
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
      const userId = subscription.condition.broadcaster_user_id ?? "";
      if (subscribed.has(userId)) {
        subscribed = new Set([...subscribed].filter((u) => u !== userId));
      }
      log.warn(
        "Twitch revoked the {type} subscription of user {userId} ({status}); polling covers it",
        { type: subscription.type, userId, status: subscription.status },
      );
    },
    onAssign: (shard, sessionId, refused) => {
      metrics.eventsubConnected.set(conduit.assigned);
      if (refused === undefined) {
        log.info("EventSub shard {shard} assigned to session {sessionId}", { shard, sessionId });
      } else {
        log.warn("EventSub shard {shard} not assigned ({refused}); retrying", { shard, refused });
      }
    },
    onState: (shard, state, reason) => {
      metrics.eventsubConnected.set(conduit.assigned);
      if (stopped) return;
      if (state === "disconnected") {
        log.warn("EventSub shard {shard} lost: {reason}", { shard, reason });
      } else log.info("EventSub shard {shard} {state}: {reason}", { shard, state, reason });
    },
  });
  conduit.ready.then(reconcile).catch((error) =>
    log.warn("EventSub subscriptions failed: {error}; polling covers the watchlist", {
      error: (error as Error).message,
    })
  );
  return {
    conduit,
    get subscribed() {
      return subscribed;
    },
    stop() {
      stopped = true;
      conduit.stop();
    },
  };
}
