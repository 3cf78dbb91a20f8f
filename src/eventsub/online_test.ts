import assert from "node:assert/strict";
import { lookupOffset, OnlineRetries } from "./online.ts";
import { createFakeSource, fakeStream } from "../scan/_test_utils.ts";

Deno.test("look-ups come 1, 3, 7 and 15 s after the event, then every 10 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 19].map(lookupOffset), [
    1_000,
    3_000,
    7_000,
    15_000,
    25_000,
    35_000,
    175_000,
  ]);
});

Deno.test("150 channels waiting take two look-ups, 100 user ids and 50", async () => {
  const streams = Array.from(
    { length: 150 },
    (_, i) => fakeStream(`s${i}`, { user_id: `u${i}` }),
  );
  const source = createFakeSource({ listed: streams });
  let now = 0;
  const retries = new OnlineRetries({
    source,
    now: () => now,
    schedule: (ms, task) => {
      setTimeout(() => {
        now += ms;
        void task();
      }, 0);
    },
  });
  const found = await Promise.all(
    streams.map((s) => retries.wait(s.user_id, (listed) => listed.id === s.id)),
  );
  assert.deepEqual(found.map((f) => f?.stream.id), streams.map((s) => s.id));
  assert.deepEqual(source.calls.map((c) => c.query.user_id!.length), [100, 50]);
  assert.equal(retries.size, 0);
});
