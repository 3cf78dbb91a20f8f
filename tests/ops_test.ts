/**
 * The operations endpoint of a running service, as an orchestrator sees it:
 * readiness that follows the broker, liveness for `--healthcheck`, and the
 * Prometheus metrics of a scan.
 */

import assert from "node:assert/strict";
import { uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { NO_SCHEDULED_SCANS, runService, startService } from "./support/service.ts";
import { freePort } from "../dev/ports.ts";

type LogLine = Record<string, unknown>;

async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get("content-type"),
  };
}

/** Polls `/readyz` until it answers `status`; resolves to the answer and the milliseconds it took. */
async function readyzTurns(
  port: number,
  status: number,
  timeoutMs: number,
): Promise<{ body: string; ms: number }> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const answer = await get(port, "/readyz");
    if (answer.status === status) {
      return { body: answer.body, ms: Math.round(performance.now() - started) };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms`);
}

function isScanEnd(line: LogLine): boolean {
  return String(line.message).startsWith("Scan ");
}

/** Samples of a Prometheus text page by series (`name{labels}`). */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

Deno.test("/readyz turns 503 within 30 s of the broker being killed and 200 once it is back, and --healthcheck follows the process", async () => {
  await using broker = await useTestBroker({ own: true });
  const port = freePort();
  const env = {
    SOURCE: "simulated",
    SIM_STREAMS: "300",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: uniqueTopic("ready"),
    // Readiness of a single writer ("ok"); with HA=on it names the role (tests/ha_test.ts).
    HA: "off",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
  };
  await using service = startService([], env);
  const scan = await service.waitForLog(isScanEnd);
  assert.match(String(scan.message), /^Scan ok/);
  assert.deepEqual(await readyzTurns(port, 200, 5000).then((r) => r.body), "ok\n");
  assert.equal((await runService(["--healthcheck"], env)).code, 0);

  await broker.local!.kill();
  const down = await readyzTurns(port, 503, 45_000);
  console.log(`/readyz answered 503 ${down.ms} ms after the broker was killed`);
  assert.equal(down.body, "Kafka broker unreachable\n");
  assert.ok(down.ms < 30_000, `took ${down.ms} ms`);
  // Alive all the same: an orchestrator must not restart the service for the broker's outage.
  assert.equal((await get(port, "/healthz")).status, 200);
  assert.equal((await runService(["--healthcheck"], env)).code, 0);

  await broker.local!.start();
  const up = await readyzTurns(port, 200, 45_000);
  console.log(`/readyz answered 200 ${up.ms} ms after the broker was back`);
  assert.equal(up.body, "ok\n");
  assert.ok(up.ms < 30_000, `took ${up.ms} ms`);

  const result = await service.stop("SIGTERM");
  assert.equal(result.code, 0, result.stderr);
  const after = await runService(["--healthcheck"], env);
  assert.equal(after.code, 1, after.stderr);
  assert.equal(after.stdout, "");
});

Deno.test("/metrics after one scan serves its exact numbers in Prometheus text format", async () => {
  await using broker = await useTestBroker();
  const port = freePort();
  const started = Date.now();
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_SEED: "3",
    SIM_STREAMS: "1200",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: uniqueTopic("metrics"),
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    SCHEDULE: NO_SCHEDULED_SCANS,
  });
  const scan = await service.waitForLog(isScanEnd);
  assert.match(String(scan.message), /^Scan ok/);
  const page = await get(port, "/metrics");
  const finished = Date.now();

  assert.equal(page.status, 200);
  assert.equal(page.type, "text/plain; version=0.0.4; charset=utf-8");
  const metrics = samples(page.body);
  assert.equal(metrics.get('datagen_scans_total{result="ok"}'), 1);
  assert.equal(metrics.get('datagen_scans_total{result="failed"}'), 0);
  assert.equal(metrics.get("datagen_scan_duration_seconds_count"), 1);
  assert.equal(metrics.get("datagen_scan_duration_seconds_sum"), Number(scan.durationMs) / 1000);
  assert.equal(metrics.get("datagen_streams_seen"), 1200);
  assert.equal(metrics.get("datagen_records_produced_total"), 1200);
  assert.equal(metrics.get('datagen_tombstones_total{reason="ended"}'), 0);
  assert.equal(metrics.get('datagen_tombstones_total{reason="expired"}'), 0);
  assert.equal(
    metrics.get('datagen_helix_requests_total{status="200"}'),
    Number(scan.pages) + Number(scan.lookups),
  );
  assert.equal(metrics.get("datagen_helix_ratelimit_remaining"), scan.rateLimitRemaining);
  // One point per request, 800 points a minute: 75 ms each.
  assert.equal(
    metrics.get("datagen_scan_ratelimit_points"),
    Number(scan.pages) + Number(scan.lookups),
  );
  assert.equal(scan.points, Number(scan.pages) + Number(scan.lookups));
  assert.equal(metrics.get("datagen_scan_rate_bound_seconds"), Number(scan.rateBoundMs) / 1000);
  assert.equal(scan.rateBoundMs, Math.round(Number(scan.points) * 75));
  assert.equal(
    metrics.get("datagen_scan_projected_seconds"),
    Math.max(Number(scan.durationMs), Number(scan.rateBoundMs)) / 1000,
  );
  const lastSuccess = metrics.get("datagen_last_success_timestamp_seconds")!;
  assert.ok(lastSuccess >= started / 1000 && lastSuccess <= finished / 1000, String(lastSuccess));
  assert.match(page.body, /^# TYPE datagen_records_produced_total counter$/m);
  assert.match(page.body, /^# TYPE datagen_scan_duration_seconds histogram$/m);

  const result = await service.stop("SIGTERM");
  assert.equal(result.code, 0, result.stderr);
});
