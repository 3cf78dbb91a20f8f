/**
 * `deno task bench --steady`: consecutive full scans without pause, as a
 * service whose scans overrun the schedule runs them, starting from an
 * emptied rate-limit bucket. In that steady state the rate limit alone sets
 * the pace: each scan should take about its requests ÷ the refill rate.
 *
 * @module
 */

import type { Admin, Kafka } from "kafkajs";
import { createHelixSource } from "../src/helix/client.ts";
import { ensureTopic, kafkaDelivery } from "../src/kafka/client.ts";
import { createBatcher } from "../src/scan/batcher.ts";
import type { LiveState } from "../src/scan/endings.ts";
import { planScan } from "../src/scan/plan.ts";
import { runScan } from "../src/scan/scan.ts";
import { startSimProcess } from "./sim_process.ts";

/** What the steady-state run needs. */
export interface SteadyOptions {
  kafka: Kafka;
  admin: Admin;
  streams: number;
  latencyMs: number;
  rateLimit: number;
  concurrency: number;
  scans: number;
  seed: number;
}

/** One scan of the steady state. */
export interface SteadyScan {
  scan: number;
  records: number;
  /** Rate-limit points paid (requests answered other than 429). */
  requests: number;
  wallSeconds: number;
  /** requests ÷ rate: the shortest time the points allow. */
  rateBoundSeconds: number;
  wallOverRateBound: number;
  rateLimited429: number;
  longestWaitMs: number;
}

/** Runs the scans back to back and reports each. */
export async function steadyScans(options: SteadyOptions): Promise<SteadyScan[]> {
  const sim = await startSimProcess({
    SIM_STREAMS: String(options.streams),
    SIM_LATENCY_MS: String(options.latencyMs),
    SIM_RATE_LIMIT: String(options.rateLimit),
    SIM_CHURN: "0",
    SIM_SEED: String(options.seed),
  });
  Deno.env.set("TWURPLE_MOCK_API_PORT", String(sim.port));
  let throttled = 0;
  let longestWait = 0;
  const source = createHelixSource({
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    timeoutMs: 30_000,
    onRequest: (status) => {
      if (status === 429) throttled++;
    },
    onRateLimitWait: (ms) => longestWait = Math.max(longestWait, ms),
  });
  await drain(source);
  console.error(`bucket emptied (${source.rateLimitRemaining()} points left)`);

  const topic = `bench-steady-${crypto.randomUUID().slice(0, 8)}`;
  await ensureTopic(options.admin, { topic, partitions: 3, replicationFactor: 1 });
  const delivery = kafkaDelivery(options.kafka, topic);
  await delivery.connect();
  const plan = planScan({ languages: [], gameIds: [], userLogins: [] }, "sharded");
  const results: SteadyScan[] = [];
  let previous: LiveState = new Map();
  try {
    for (let scan = 1; scan <= options.scans; scan++) {
      throttled = 0;
      longestWait = 0;
      const started = performance.now();
      const { summary, state } = await runScan({
        source,
        sink: createBatcher(delivery.send),
        plan,
        previous,
        scanId: `steady-${scan}`,
        concurrency: options.concurrency,
      });
      const wallSeconds = (performance.now() - started) / 1000;
      if (summary.result !== "ok") {
        throw new Error(`steady scan ${scan} ${summary.result}: ${summary.failure?.message}`);
      }
      previous = state!;
      const requests = summary.points!;
      const rateBoundSeconds = requests / (options.rateLimit / 60);
      const result = {
        scan,
        records: summary.records,
        requests,
        wallSeconds: round(wallSeconds),
        rateBoundSeconds: round(rateBoundSeconds),
        wallOverRateBound: round(wallSeconds / rateBoundSeconds),
        rateLimited429: throttled,
        longestWaitMs: Math.round(longestWait),
      };
      console.error(JSON.stringify(result));
      results.push(result);
    }
  } finally {
    await delivery.close();
    await sim.stop();
  }
  return results;
}

/** Spends every point of the client id's bucket with one-stream pages. */
async function drain(source: ReturnType<typeof createHelixSource>): Promise<void> {
  await source.fetchPage({}, { first: 1 });
  // The bucket refills while it is drained: a few rounds, each smaller.
  for (let round = 0; round < 20; round++) {
    const left = source.rateLimitRemaining() ?? 0;
    if (left === 0) return;
    await Promise.all(Array.from({ length: left }, () => source.fetchPage({}, { first: 1 })));
  }
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}
