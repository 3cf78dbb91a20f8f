import assert from "node:assert/strict";
import { handleOps } from "./http.ts";
import { createMetrics } from "./metrics.ts";

const metrics = createMetrics();
const readiness = () => ({ ready: true, reason: "ok" });

async function get(path: string, health?: () => { ok: boolean; reason: string }) {
  const response = await handleOps(new Request(`http://localhost${path}`), {
    readiness,
    health,
    metrics,
  });
  return { status: response.status, body: await response.text() };
}

Deno.test("/healthz answers 200 while the process can go on", async () => {
  assert.deepEqual(await get("/healthz"), { status: 200, body: "ok\n" });
  assert.deepEqual(await get("/healthz", () => ({ ok: true, reason: "ok" })), {
    status: 200,
    body: "ok\n",
  });
});

Deno.test("/healthz answers 503 with the reason once the producer cannot go on", async () => {
  const reason = "the Kafka producer cannot go on: OUT_OF_ORDER_SEQUENCE_NUMBER (x)";
  assert.deepEqual(await get("/healthz", () => ({ ok: false, reason })), {
    status: 503,
    body: `${reason}\n`,
  });
});
