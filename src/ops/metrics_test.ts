import assert from "node:assert/strict";
import { createMetrics, projectedScanMs, recordScan } from "./metrics.ts";
import type { ScanSummary } from "../scan/scan.ts";

const summary: ScanSummary = {
  scanId: "s",
  result: "ok",
  pages: 1005,
  streams: 100_000,
  distinct: 100_000,
  duplicates: 0,
  lateDuplicates: 0,
  records: 100_000,
  recovered: 0,
  ended: 0,
  expired: 0,
  deselected: 0,
  lookups: 0,
  durationMs: 41_000,
  drainMs: 60,
  rateLimitRemaining: 0,
  points: 1005,
  rateBoundMs: 75_375,
  settled: true,
  superseded: 0,
};

async function value(metrics: ReturnType<typeof createMetrics>, name: string) {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values[0]?.value;
}

Deno.test("a scan that started on a full bucket projects the time its points take, not its own", () => {
  assert.equal(projectedScanMs(summary), 75_375);
  assert.equal(projectedScanMs({ durationMs: 100_000, rateBoundMs: 75_375 }), 100_000);
  assert.equal(projectedScanMs({ durationMs: 3_000, rateBoundMs: null }), 3_000);
});

Deno.test("a scan's points, their rate bound and the projected full scan are gauges", async () => {
  const metrics = createMetrics();
  recordScan(metrics, summary, Date.now());
  assert.equal(await value(metrics, "datagen_scan_ratelimit_points"), 1005);
  assert.equal(await value(metrics, "datagen_scan_rate_bound_seconds"), 75.375);
  assert.equal(await value(metrics, "datagen_scan_projected_seconds"), 75.375);
  // A failed scan does not project a full scan.
  recordScan(metrics, { ...summary, result: "failed", durationMs: 500_000 }, Date.now());
  assert.equal(await value(metrics, "datagen_scan_projected_seconds"), 75.375);
});
