import assert from "node:assert/strict";
import { handleOps } from "./http.ts";
import { createMetrics } from "./metrics.ts";
import { ServiceStatus } from "./status.ts";
import { CONTENT_SECURITY_POLICY } from "./status_http.ts";

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

Deno.test("the status page and its files are served with a policy that forbids inline script and other origins", async () => {
  const status = new ServiceStatus({ readiness });
  for (
    const [path, type] of [
      ["/", "text/html; charset=utf-8"],
      ["/app.js", "text/javascript; charset=utf-8"],
      ["/app.css", "text/css; charset=utf-8"],
      ["/status.json", "application/json; charset=utf-8"],
    ]
  ) {
    const response = await handleOps(new Request(`http://localhost${path}`), {
      readiness,
      metrics,
      status,
    });
    const body = await response.text();
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type);
    assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.ok(body.length > 0);
  }
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
});

Deno.test("the page has no inline script, and its script sets stream text only as text", async () => {
  const page = await (await handleOps(new Request("http://localhost/"), {
    readiness,
    metrics,
    status: new ServiceStatus({ readiness }),
  })).text();
  assert.deepEqual([...page.matchAll(/<script[^>]*>/g)].map((m) => m[0]), [
    '<script src="/app.js" defer>',
  ]);
  assert.doesNotMatch(page, /\son\w+=/i);
  const script = await (await handleOps(new Request("http://localhost/app.js"), {
    readiness,
    metrics,
    status: new ServiceStatus({ readiness }),
  })).text();
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
});

Deno.test("without a status model there is no page", async () => {
  assert.equal((await get("/")).status, 404);
  assert.equal((await get("/status.json")).status, 404);
});
