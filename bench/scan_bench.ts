/**
 * `deno task bench`: a sequential and a sharded full scan of the simulator,
 * produced to a real broker, measured side by side.
 *
 * Flags: --streams N (100000), --latency MS (100), --rate-limit POINTS (800),
 * --concurrency N (16), --out PATH (bench/results.json). A quick run:
 * `deno task bench --streams 10000 --latency 20`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startKafkaBroker } from "../src/dev/kafka_broker.ts";
import { createHelixSource } from "../src/helix.ts";
import { createKafka, createProducer, ensureTopic, kafkaSender } from "../src/kafka.ts";
import { createBatcher, type RecordSink } from "../src/batcher.ts";
import { planScan, type ScanPlan } from "../src/shards.ts";
import { runScan } from "../src/scan.ts";
import { scanLowerBound } from "./lower_bound.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    streams: { type: "string", default: "100000" },
    latency: { type: "string", default: "100" },
    "rate-limit": { type: "string", default: "800" },
    concurrency: { type: "string", default: "16" },
    out: { type: "string", default: "bench/results.json" },
  },
});
const streams = Number(values.streams);
const latencyMs = Number(values.latency);
const rateLimit = Number(values["rate-limit"]);
const concurrency = Number(values.concurrency);

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
const kafka = createKafka({ clientId: "datagen-bench", brokers, logLevel: 1 });
const admin = kafka.admin();
await admin.connect();
const producer = createProducer(kafka);
await producer.connect();

/** A simulator on its own thread (see sim_worker.ts). */
async function startSimWorker(options: Record<string, number>) {
  const worker = new Worker(new URL("./sim_worker.ts", import.meta.url), { type: "module" });
  const reply = <T>(message: unknown) =>
    new Promise<T>((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.postMessage(message);
    });
  const started = await reply<
    { port: number; clientId: string; clientSecret: string; languages: Record<string, number> }
  >({ start: options });
  return {
    ...started,
    stats: async () => (await reply<{ stats: { rateLimited: number } }>({ stats: true })).stats,
    async [Symbol.asyncDispose]() {
      await reply({ close: true });
    },
  };
}

async function measure(name: string, plan: ScanPlan) {
  // A fresh simulator per run: a full rate-limit bucket and the same static set.
  await using sim = await startSimWorker({ streams, latencyMs, rateLimit, churn: 0, seed: 7 });
  Deno.env.set("TWURPLE_MOCK_API_PORT", String(sim.port));
  const source = createHelixSource({
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    timeoutMs: 30_000,
  });
  const topic = `bench-${name}-${crypto.randomUUID().slice(0, 8)}`;
  await ensureTopic(admin, { topic, partitions: 3, replicationFactor: 1 });
  const ids = new Set<string>();
  const kafkaSink = createBatcher(kafkaSender(producer, topic));
  const sink: RecordSink = {
    write(records) {
      for (const r of records) ids.add(r.key);
      return kafkaSink.write(records);
    },
    flush: () => kafkaSink.flush(),
  };
  const before = (await sim.stats()).rateLimited;
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
  if (summary.result !== "ok") throw new Error(`${name} scan ${summary.result}: ${summary.error}`);
  const bound = scanLowerBound(plan, sim.languages, {
    latencyMs,
    rateLimit,
    bucket: rateLimit,
  });
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
      rateLimited429: (await sim.stats()).rateLimited - before,
    },
  };
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}

const filters = { languages: [], gameIds: [], userLogins: [] };
const sequential = await measure("sequential", planScan(filters, "sequential"));
const sharded = await measure("sharded", planScan(filters, "sharded"));
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
};
await producer.disconnect();
await admin.disconnect();
console.log(JSON.stringify(report, null, 2));
await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
if (!sameIds || sharded.ids.size !== streams) {
  console.error(
    `error: the scans disagree (sequential ${sequential.ids.size}, sharded ${sharded.ids.size} ids)`,
  );
  Deno.exit(1);
}
