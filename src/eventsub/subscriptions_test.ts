import assert from "node:assert/strict";
import { planSubscriptions, reconcileSubscriptions } from "./subscriptions.ts";
import type { EventSubApi } from "./twitch.ts";

/** An API that creates every subscription asked for, and counts the creates. */
function creatingApi() {
  const creates: string[] = [];
  let cost = 0;
  const api: EventSubApi = {
    clientId: "c",
    userIds: () => Promise.resolve(new Map()),
    conduits: () => Promise.resolve([]),
    createConduit: () => Promise.reject(new Error("not expected")),
    updateConduit: () => Promise.reject(new Error("not expected")),
    assignShards: () => Promise.resolve({ assigned: [], refused: [] }),
    subscribe: (type, condition) => {
      creates.push(`${type} ${condition.broadcaster_user_id}`);
      cost++;
      return Promise.resolve({
        created: true,
        id: `${creates.length}`,
        total: cost,
        totalCost: cost,
        maxTotalCost: 10_000,
      });
    },
    subscriptions: () =>
      Promise.resolve({ data: [], total: 0, totalCost: 0, maxTotalCost: 10_000 }),
    unsubscribe: () => Promise.resolve(),
  };
  return { api, creates };
}

Deno.test("a reconcile yields to a newer ranking between channels, never between a channel's two events", async () => {
  const { api, creates } = creatingApi();
  let asked = 0;
  const result = await reconcileSubscriptions(api, "k", ["1", "2", "3"], undefined, {
    // A scan ends after the first channel's creates.
    yieldWhen: () => ++asked > 1,
  });
  assert.deepEqual(creates, ["stream.online 1", "stream.offline 1"]);
  assert.equal(result.yielded, true);
  assert.deepEqual([...result.subscribed], ["1"]);
  // The next round, with what this one left, creates only the rest.
  const next = await reconcileSubscriptions(api, "k", ["1", "2", "3"], {
    data: result.listed,
    total: result.total,
    totalCost: result.totalCost,
    maxTotalCost: result.maxTotalCost,
  });
  assert.equal(next.yielded, false);
  assert.equal(next.created, 4);
  assert.deepEqual([...next.subscribed].sort(), ["1", "2", "3"]);
});

Deno.test("the plan creates in the set's order and deletes ours that left it", () => {
  const listed = [
    { id: "a", type: "stream.online", status: "enabled", userId: "9", conduitId: "k" },
    { id: "b", type: "stream.offline", status: "enabled", userId: "1", conduitId: "k" },
    { id: "c", type: "stream.online", status: "enabled", userId: "8", conduitId: "other" },
  ];
  const plan = planSubscriptions(["1", "2"], listed, "k");
  assert.deepEqual(plan.remove, ["a"]);
  assert.deepEqual(plan.create, [
    { type: "stream.online", userId: "1" },
    { type: "stream.online", userId: "2" },
    { type: "stream.offline", userId: "2" },
  ]);
  assert.deepEqual(plan.kept, []);
});
