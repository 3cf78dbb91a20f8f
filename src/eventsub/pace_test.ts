import assert from "node:assert/strict";
import { createEventSubGate } from "./pace.ts";
import { createSharedLimiter } from "../helix/limiter.ts";

Deno.test("EventSub takes at most its share of the bucket's rate, each call a point of the shared bucket", async () => {
  // 6000 points a minute: a share of 0.2 is one EventSub call every 50 ms.
  const limiter = createSharedLimiter({ limit: 6000 });
  let points = 0;
  const gate = createEventSubGate(limiter, { onPoint: () => points++ });
  const started = performance.now();
  for (let i = 0; i < 5; i++) {
    await gate.gate();
    gate.answered(200, new Headers({ "Ratelimit-Limit": "6000", "Ratelimit-Remaining": "5000" }));
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 195, `5 calls in ${elapsed} ms: faster than the share allows`);
  assert.deepEqual([gate.points, points, limiter.spent()], [5, 5, 5]);
});
