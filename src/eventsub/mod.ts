/**
 * Real time for the channels that matter: a conduit with WebSocket shards on
 * the app's credentials, its subscriptions kept equal to the pinned channels
 * plus the most watched ones (`EVENTSUB_CHANNELS`), and the
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
import { coverage, type Member, rankingOf, selectChannels } from "./channels.ts";
import { WatchLedger } from "./ledger.ts";
import { coalesceSends } from "./coalesce.ts";
import { streamEvent } from "./messages.ts";
import type { CostTotals, EventSubApi, ListedSubscription } from "./twitch.ts";
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
  /** Channels kept subscribed, the pinned `logins` included (`EVENTSUB_CHANNELS`). */
  channels: number;
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
  /** A scan ended with `live`: the set follows its ranking, and the subscriptions the set. */
  afterScan(live: LiveState): void;
  /** Resolves when no reconcile is under way. */
  settled(): Promise<void>;
  stop(): void;
}

/**
 * Keeps a conduit subscribed to the pinned channels and the most watched ones (see
 * `channels.ts`) until stopped, reconciling after each scan.
 */
export function startEventSub(options: EventSubOptions): EventSub {
  const { metrics } = options;
  let userIds: string[] | null = null;
  let subscribed: ReadonlySet<string> = new Set();
  let members = new Map<string, Member>();
  /** The last scan's live set (the session's own, not a copy): ranked as a reconcile starts. */
  let live: LiveState | null = null;
  /** What the last reconcile left (null: read Twitch's list first). */
  let known: ({ data: ListedSubscription[] } & CostTotals) | null = null;
  let conduitId: string | null = null;
  let running: Promise<void> | null = null;
  /** A scan has ranked the channels. */
  let ranked = false;
  let again = false;
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

  // A stream.online look-up is a Helix request of EventSub's: it counts in EventSub's points
  // (and, as every Helix request, in datagen_helix_requests_total). It takes its point from
  // the shared bucket without EventSub's pace, so that the record follows the event at once.
  const lookups: StreamSource = {
    fetchPage(query, page) {
      metrics.eventsubPoints.inc();
      return options.source.fetchPage(query, page);
    },
    rateLimitRemaining: () => options.source.rateLimitRemaining(),
  };
  const watcher = new Watcher({
    source: lookups,
    send: coalesceSends(options.send),
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

  /** One reconcile at a time; a scan that ends during one asks for another after it. */
  function update() {
    // Before the first scan there is no ranking: a reconcile then would delete every
    // subscription a previous run or leader left, and the ramp would create them all again.
    if (conduitId === null || stopped || !ranked) return;
    if (running) {
      again = true;
      return;
    }
    running = reconcile(conduitId).catch((error) => {
      known = null;
      log.warn("EventSub subscriptions failed: {error}; polling covers the channels", {
        error: (error as Error).message,
      });
    }).finally(() => {
      running = null;
      if (again) {
        again = false;
        update();
      }
    });
  }

  async function reconcile(conduitId: string) {
    const pinned = await resolveUsers();
    // Only the best channels and the members and pinned ones: not one object per live stream.
    const kept = new Set([...members.keys(), ...pinned]);
    const ranking = rankingOf(live?.values() ?? [], { top: 1.5 * options.channels, keep: kept });
    members = selectChannels(members, ranking.channels, {
      cap: options.channels,
      pinned,
      now: Date.now(),
    });
    const desired = [...members.keys()];
    // During a ramp the gauges follow each channel subscribed, not only the reconcile's end.
    const growing = new Set([...subscribed].filter((u) => members.has(u)));
    const result = await reconcileSubscriptions(
      options.api,
      conduitId,
      desired,
      known ?? undefined,
      {
        // A scan ended meanwhile: the next round follows its ranking.
        yieldWhen: () => again,
        onSubscribed: (userId, totals) => {
          growing.add(userId);
          metrics.eventsubChannels.set(growing.size);
          metrics.eventsubCost.set({ kind: "total" }, totals.totalCost);
          metrics.eventsubCost.set({ kind: "max" }, totals.maxTotalCost);
          if (growing.size % 50 === 0) {
            metrics.eventsubCoverage.set(coverage(ranking.channels, growing, ranking.viewers));
          }
        },
      },
    );
    known = {
      data: result.listed,
      total: result.total,
      totalCost: result.totalCost,
      maxTotalCost: result.maxTotalCost,
    };
    subscribed = result.subscribed;
    metrics.eventsubChannels.set(subscribed.size);
    metrics.eventsubCost.set({ kind: "total" }, result.totalCost);
    metrics.eventsubCost.set({ kind: "max" }, result.maxTotalCost);
    metrics.eventsubCoverage.set(coverage(ranking.channels, subscribed, ranking.viewers));
    const refusals = new Map<string, number>();
    for (const r of result.refused) refusals.set(r.reason, (refusals.get(r.reason) ?? 0) + 1);
    for (const [reason, count] of refusals) {
      log.warn("EventSub refused {count} subscriptions: {reason}", { count, reason });
    }
    if (
      result.created + result.deleted === 0 && result.refused.length === 0 && result.requests === 0
    ) {
      return;
    }
    log.info(
      "EventSub conduit {conduitId}: {subscribed} of {wanted} channels subscribed, cost {totalCost} of {maxTotalCost} ({created} created, {deleted} deleted, {requests} requests)",
      {
        conduitId,
        wanted: desired.length,
        subscribed: subscribed.size,
        totalCost: result.totalCost,
        maxTotalCost: result.maxTotalCost,
        created: result.created,
        deleted: result.deleted,
        requests: result.requests,
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
      // Every event is handled, a member's or not: only our subscriptions deliver here, and a
      // channel that has left the set stays subscribed until its delete. Ignoring its events
      // left its end to the scans (minutes) while its subscription still told it at once.
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
      const userId = subscription.condition.broadcaster_user_id ?? "";
      if (subscribed.has(userId)) {
        subscribed = new Set([...subscribed].filter((u) => u !== userId));
      }
      // Twitch's list changed behind our back: read it again at the next reconcile.
      known = null;
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
  conduit.ready.then((id) => {
    conduitId = id;
    update();
  }, () => {});
  return {
    conduit,
    get subscribed() {
      return subscribed;
    },
    afterScan(state) {
      live = state;
      ranked = true;
      update();
    },
    async settled() {
      while (running) await running;
    },
    stop() {
      stopped = true;
      watcher.close();
      conduit.stop();
    },
  };
}
