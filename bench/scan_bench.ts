/**
 * `deno task bench`: a sequential and a sharded full scan of the simulator,
 * produced to a real broker, measured side by side.
 *
 * Flags: --streams N (100000), --latency MS (100), --rate-limit POINTS (800),
 * --concurrency N (16), --out PATH (bench/results.json). A quick run:
 * `deno task bench --streams 10000 --latency 20`.
 *
 * The sharded scan hands its acknowledged batches to the status page's
 * model, as the service does: the `status` section gives the time that took
 * and `/status.json`'s latency over HTTP with the scan's live set.
 *
 * `--steady --scans N` (3) runs N sharded scans back to back instead,
 * starting from an emptied rate-limit bucket, and writes them to the
 * `steady` section of the results (the other sections are kept).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startKafkaBroker } from "../dev/kafka/broker.ts";
import { createHelixSource } from "../src/helix/client.ts";
import { createKafka, ensureTopic, kafkaDelivery } from "../src/kafka/client.ts";
import { readLiveState } from "../src/kafka/rebuild.ts";
import { createBatcher, type RecordSink } from "../src/scan/batcher.ts";
import { planScan, type ScanPlan } from "../src/scan/plan.ts";
import { runScan } from "../src/scan/scan.ts";
import { scanLowerBound } from "./lower_bound.ts";
import { generateStreams } from "../src/sim/mod.ts";
import { startSimProcess } from "./sim_process.ts";
import { steadyScans } from "./steady_bench.ts";
import { statusLatency, type TimedStatus, timedStatus } from "./status_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    streams: { type: "string", default: "100000" },
    latency: { type: "string", default: "100" },
    "rate-limit": { type: "string", default: "800" },
    concurrency: { type: "string", default: "16" },
    out: { type: "string", default: "bench/results.json" },
    steady: { type: "boolean", default: false },
    scans: { type: "string", default: "3" },
  },
});
const streams = Number(values.streams);
const latencyMs = Number(values.latency);
const rateLimit = Number(values["rate-limit"]);
const concurrency = Number(values.concurrency);
const SEED = 7;

/** Samples the process's resident set size until stopped; returns the peak. */
function watchRss(): () => number {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 25);
  return () => {
    clearInterval(timer);
    return Math.max(peak, Deno.memoryUsage().rss);
  };
}

const external = Deno.env.get("KAFKA_BROKERS");
await using broker = external ? null : await startKafkaBroker();
const brokers = external ? external.split(",") : [broker!.bootstrap];
const kafka = createKafka({ clientId: "datagen-bench", brokers, logLevel: 0 });
const admin = kafka.admin();
await admin.connect();

async function measure(name: string, plan: ScanPlan, status?: TimedStatus) {
  // A fresh simulator per run: a full rate-limit bucket and the same static set.
  const sim = await startSimProcess({
    SIM_STREAMS: String(streams),
    SIM_LATENCY_MS: String(latencyMs),
    SIM_RATE_LIMIT: String(rateLimit),
    SIM_CHURN: "0",
    SIM_SEED: String(SEED),
  });
  Deno.env.set("TWURPLE_MOCK_API_PORT", String(sim.port));
  const source = createHelixSource({
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    timeoutMs: 30_000,
  });
  const topic = `bench-${name}-${crypto.randomUUID().slice(0, 8)}`;
  await ensureTopic(admin, { topic, partitions: 3, replicationFactor: 1 });
  const ids = new Set<string>();
  const delivery = kafkaDelivery(kafka, topic);
  await delivery.connect();
  const kafkaSink = createBatcher(status ? status.wrap(delivery.send) : delivery.send);
  const sink: RecordSink = {
    write(records) {
      for (const r of records) ids.add(r.key);
      return kafkaSink.write(records);
    },
    flush: () => kafkaSink.flush(),
  };
  const stopRss = watchRss();
  const started = performance.now();
  const { summary } = await runScan({
    source,
    sink,
    plan,
    previous: null,
    scanId: name,
    concurrency,
  });
  const wallMs = performance.now() - started;
  const peakRssMb = stopRss() / 1024 / 1024;
  const rateLimited = await sim.stop();
  await delivery.close();
  if (summary.result !== "ok") {
    throw new Error(`${name} scan ${summary.result}: ${summary.failure?.message}`);
  }
  const bound = scanLowerBound(plan, languageCounts(), {
    latencyMs,
    rateLimit,
    bucket: rateLimit,
  });
  // What a restarted service does first: rebuild the live set from the topic.
  const rebuildStarted = performance.now();
  const rebuilt = await readLiveState(kafka, topic);
  const rebuildSeconds = round((performance.now() - rebuildStarted) / 1000);
  if (rebuilt.size !== ids.size) {
    throw new Error(`rebuilt ${rebuilt.size} keys, expected ${ids.size}`);
  }
  return {
    ids,
    result: {
      mode: name,
      pages: summary.pages,
      records: summary.records,
      wallSeconds: round(wallMs / 1000),
      lowerBoundSeconds: round(bound.seconds),
      longestShardPages: bound.longestChainPages,
      recordsPerSecond: Math.round(summary.records / (wallMs / 1000)),
      lastPageToLastAckMs: Math.round(summary.drainMs),
      peakRssMb: round(peakRssMb),
      rateLimited429: rateLimited,
      rebuildKeys: rebuilt.size,
      rebuildSeconds,
    },
  };
}

/** Streams per language of the static set (counted after the scans, so it does not weigh on their memory). */
function languageCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of generateStreams(SEED, streams, { now: Date.now() })) {
    counts[s.language] = (counts[s.language] ?? 0) + 1;
  }
  return counts;
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}

/** The results file as it is, or an empty object. */
async function readResults(): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await Deno.readTextFile(values.out!));
  } catch {
    return {};
  }
}

if (values.steady) {
  const scans = await steadyScans({
    kafka,
    admin,
    streams,
    latencyMs,
    rateLimit,
    concurrency,
    scans: Number(values.scans),
    seed: SEED,
  });
  await admin.disconnect();
  const later = scans.slice(1);
  const steady = {
    date: new Date().toISOString(),
    settings: { streams, latencyMs, rateLimit, concurrency, deno: Deno.version.deno },
    scans,
    afterFirst: {
      worstWallOverRateBound: Math.max(...later.map((s) => s.wallOverRateBound)),
      longestWaitMs: Math.max(...later.map((s) => s.longestWaitMs)),
      rateLimited429: later.reduce((sum, s) => sum + s.rateLimited429, 0),
    },
  };
  console.log(JSON.stringify(steady, null, 2));
  await Deno.writeTextFile(
    values.out!,
    JSON.stringify({ ...await readResults(), steady }, null, 2) + "\n",
  );
} else {
  const filters = { languages: [], gameIds: [], userLogins: [] };
  const sequential = await measure("sequential", planScan(filters, "sequential"));
  const board = timedStatus();
  const sharded = await measure("sharded", planScan(filters, "sharded"), board);
  const statusCost = {
    modelMsDuringScan: Math.round(board.spentMs()),
    percentOfScanWall: round((board.spentMs() / (sharded.result.wallSeconds * 1000)) * 100),
    statusJson: await statusLatency(board.status),
  };
  const sameIds = sequential.ids.size === sharded.ids.size &&
    [...sequential.ids].every((id) => sharded.ids.has(id));
  const report = {
    date: new Date().toISOString(),
    settings: { streams, latencyMs, rateLimit, concurrency, deno: Deno.version.deno },
    sequential: sequential.result,
    sharded: sharded.result,
    shardedOverSequential: round(sharded.result.wallSeconds / sequential.result.wallSeconds),
    shardedOverLowerBound: round(sharded.result.wallSeconds / sharded.result.lowerBoundSeconds),
    sameIds,
    distinctIds: sharded.ids.size,
    status: statusCost,
  };
  await admin.disconnect();
  console.log(JSON.stringify(report, null, 2));
  const { steady } = await readResults();
  await Deno.writeTextFile(values.out!, JSON.stringify({ ...report, steady }, null, 2) + "\n");
  if (!sameIds || sharded.ids.size !== streams) {
    console.error(
      `error: the scans disagree (sequential ${sequential.ids.size}, sharded ${sharded.ids.size} ids)`,
    );
    Deno.exit(1);
  }
}
