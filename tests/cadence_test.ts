/**
 * A rate-limit budget smaller than a scan needs, through the whole service
 * on a one-minute schedule: scans run back to back at the pace of the
 * budget, no tick is lost, and /readyz never flaps.
 *
 * This file takes about six minutes by nature (five scans of about 67
 * requests at one point a second; the second scan is the first audit, which
 * pages unsplit); it mostly sleeps, so it runs beside the other test files
 * under `deno task test --parallel`.
 */

import assert from "node:assert/strict";
import { uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { startService } from "./support/service.ts";
import { freePort } from "../dev/ports.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { withMockApiPort } from "../src/sim/_mock_port.ts";
import { createHelixSource } from "../src/helix/client.ts";

const SCANS = 5;

async function readyz(port: number): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** Spends the client id's whole bucket, so that the service starts on an empty one. */
async function drain(sim: { port: number; clientId: string; clientSecret: string }) {
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    await source.fetchPage({}, { first: 1 });
    for (let left = source.rateLimitRemaining()!; left > 0; left = source.rateLimitRemaining()!) {
      await Promise.all(Array.from({ length: left }, () => source.fetchPage({}, { first: 1 })));
    }
  });
}

Deno.test("with 60 points a minute for 6,000 streams, five scans end at most 1.15 × requests ÷ rate apart and /readyz stays 200", async () => {
  await using broker = await useTestBroker();
  await using sim = await startSimulator({ streams: 6000, rateLimit: 60 });
  await drain(sim);
  const port = freePort();
  await using service = startService([], {
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    TWURPLE_MOCK_API_PORT: String(sim.port),
    TWITCH_CLIENT_ID: sim.clientId,
    TWITCH_CLIENT_SECRET: sim.clientSecret,
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: uniqueTopic("cadence"),
    SCHEDULE: "* * * * *",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
  });
  const isScanEnd = (l: Record<string, unknown>) =>
    /^Scan (ok|failed|aborted)/.test(String(l.message));
  const first = await service.waitForLog(isScanEnd, 150_000);
  assert.match(String(first.message), /^Scan ok/);

  // From the first success on, /readyz is asked every half second until the fifth scan ends.
  const answers = new Map<number, number>();
  const deadline = Date.now() + SCANS * 100_000;
  while (service.logs().filter(isScanEnd).length < SCANS && Date.now() < deadline) {
    const status = await readyz(port);
    answers.set(status, (answers.get(status) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const scans = service.logs().filter(isScanEnd).slice(0, SCANS);
  const result = await service.stop();
  assert.equal(result.code, 0, result.stderr);

  assert.equal(scans.length, SCANS, result.stderr);
  for (const scan of scans) assert.match(String(scan.message), /^Scan ok: 6000 streams/);
  assert.deepEqual([...answers.keys()], [200], `readyz answers: ${JSON.stringify([...answers])}`);
  const gaps = [];
  for (let i = 1; i < SCANS; i++) {
    const gapMs = Date.parse(String(scans[i]["@timestamp"])) -
      Date.parse(String(scans[i - 1]["@timestamp"]));
    // One point a second: requests ÷ rate is the scan's requests in seconds.
    const boundMs = (Number(scans[i].pages) + Number(scans[i].lookups)) * 1000;
    // Each scan takes longer than the period, so a tick came while it ran: the next starts at once.
    const idleMs = gapMs - Number(scans[i].durationMs);
    gaps.push({ gapMs, boundMs, ratio: Math.round((gapMs / boundMs) * 100) / 100, idleMs });
  }
  console.log(`scan ends apart: ${JSON.stringify(gaps)}`);
  for (const gap of gaps) assert.ok(gap.ratio <= 1.15, JSON.stringify(gaps));
  for (const gap of gaps) assert.ok(gap.idleMs <= 2_000, JSON.stringify(gaps));
  for (const scan of scans) assert.equal(scan.points, Number(scan.pages) + Number(scan.lookups));
  const overrun = service.logs().filter((l) =>
    String(l.message).startsWith("Scans no longer fit the schedule")
  );
  assert.equal(overrun.length, 1, "running behind is said once");
});
