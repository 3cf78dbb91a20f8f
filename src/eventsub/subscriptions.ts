/**
 * Keeping the conduit's subscriptions equal to a set of channels: list what
 * Twitch holds, create stream.online + stream.offline for the channels
 * missing, delete ours for the channels that left the set. Ours are the
 * stream.online/offline subscriptions on our conduit; any other subscription
 * of the client id is left alone, though Twitch counts its cost. Twitch's
 * `total_cost` and `max_total_cost` are trusted over our own count, and a
 * create refused for cost stops the round (the rest would be refused too).
 *
 * @module
 */

import { WATCHED_EVENTS, type WatchedEvent } from "./messages.ts";
import {
  type CostTotals,
  type EventSubApi,
  EventSubApiError,
  type ListedSubscription,
} from "./twitch.ts";

/** What to do to reach the set. */
export interface SubscriptionPlan {
  create: { type: WatchedEvent; userId: string }[];
  /** Ids of our subscriptions whose channel left the set. */
  remove: string[];
  /** Channels with both events on our conduit already. */
  kept: string[];
}

/** Compares the set with what Twitch lists (pure). Channels are created in the set's order. */
export function planSubscriptions(
  desired: readonly string[],
  listed: readonly ListedSubscription[],
  conduitId: string,
): SubscriptionPlan {
  const want = new Set(desired);
  const ours = new Map<string, Set<string>>();
  const remove: string[] = [];
  for (const sub of listed) {
    if (sub.conduitId !== conduitId || !isWatched(sub.type) || sub.userId === "") continue;
    if (!want.has(sub.userId) || sub.status !== "enabled") {
      remove.push(sub.id);
      continue;
    }
    if (!ours.has(sub.userId)) ours.set(sub.userId, new Set());
    ours.get(sub.userId)!.add(sub.type);
  }
  const create: SubscriptionPlan["create"] = [];
  const kept: string[] = [];
  for (const userId of want) {
    const have = ours.get(userId) ?? new Set();
    const missing = WATCHED_EVENTS.filter((t) => !have.has(t));
    if (missing.length === 0) kept.push(userId);
    for (const type of missing) create.push({ type, userId });
  }
  return { create, remove, kept };
}

/** What a reconcile did, and Twitch's totals after it. */
export interface ReconcileResult extends CostTotals {
  /** Every subscription of the client id after it: pass it to the next reconcile. */
  listed: ListedSubscription[];
  created: number;
  deleted: number;
  /** Channels with both events on our conduit now. */
  subscribed: Set<string>;
  /** Creates refused, with Twitch's reason (409: held by a subscription not ours). */
  refused: { type: string; userId: string; reason: string }[];
  /** Helix requests made. */
  requests: number;
  /** It stopped creating because `yieldWhen` said so: the rest waits for the next reconcile. */
  yielded: boolean;
}

/**
 * Brings the conduit's subscriptions to `desired` (deletes first, so that their cost frees).
 * `known` is the list the last reconcile left: without it Twitch's list is read (a page of
 * 100 a point), with it only the changes cost points. `onSubscribed` hears of each channel
 * that gets its second event as it happens: a ramp of thousands of channels takes an hour at
 * EventSub's share of the rate limit, and the metrics should not wait for its end.
 * `yieldWhen` is asked before each channel's creates: once it says yes (a newer scan has ranked
 * the channels), the round ends, so that an hour-long ramp does not go on creating the set a
 * scan chose an hour ago while channels end and others take their viewers.
 */
export async function reconcileSubscriptions(
  api: EventSubApi,
  conduitId: string,
  desired: readonly string[],
  known?: { data: ListedSubscription[] } & CostTotals,
  options: {
    onSubscribed?: (userId: string, totals: CostTotals) => void;
    yieldWhen?: () => boolean;
  } = {},
): Promise<ReconcileResult> {
  const listed = known ?? await api.subscriptions();
  let requests = known ? 0 : Math.max(1, Math.ceil(listed.data.length / 100));
  const after = new Map(listed.data.map((s) => [s.id, s]));
  const plan = planSubscriptions(desired, listed.data, conduitId);
  let totals: CostTotals = listed;
  let deleted = 0;
  for (const id of plan.remove) {
    await api.unsubscribe(id);
    after.delete(id);
    requests++;
    deleted++;
    totals = { ...totals, total: totals.total - 1, totalCost: totals.totalCost - 1 };
  }
  const have = new Map<string, Set<string>>(plan.kept.map((u) => [u, new Set(WATCHED_EVENTS)]));
  const refused: ReconcileResult["refused"] = [];
  let created = 0;
  let full = false;
  let yielded = false;
  let previous: string | undefined;
  for (const { type, userId } of plan.create) {
    if (userId !== previous && options.yieldWhen?.()) {
      yielded = true;
      break;
    }
    previous = userId;
    if (full) {
      refused.push({ type, userId, reason: "not tried: a create was refused for cost" });
      continue;
    }
    try {
      requests++;
      const outcome = await api.subscribe(type, { broadcaster_user_id: userId }, conduitId);
      if (!outcome.created) {
        refused.push({ type, userId, reason: "409: a subscription not ours holds it" });
        continue;
      }
      created++;
      totals = outcome;
      after.set(outcome.id, { id: outcome.id, type, status: "enabled", userId, conduitId });
      if (!have.has(userId)) have.set(userId, new Set());
      const types = have.get(userId)!;
      types.add(type);
      if (types.size === WATCHED_EVENTS.length) options.onSubscribed?.(userId, outcome);
    } catch (error) {
      // 429 is Twitch's answer to a create past max_total_cost (and to an empty rate bucket).
      if (
        error instanceof EventSubApiError && error.status === 429 && /cost/i.test(error.message)
      ) full = true;
      refused.push({ type, userId, reason: (error as Error).message });
    }
  }
  totals = { total: totals.total, totalCost: totals.totalCost, maxTotalCost: totals.maxTotalCost };
  const subscribed = new Set(
    [...have].filter(([, types]) => types.size === WATCHED_EVENTS.length).map(([u]) => u),
  );
  return {
    ...totals,
    listed: [...after.values()],
    created,
    deleted,
    subscribed,
    refused,
    requests,
    yielded,
  };
}

function isWatched(type: string): type is WatchedEvent {
  return (WATCHED_EVENTS as readonly string[]).includes(type);
}
