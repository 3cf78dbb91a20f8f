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
import { startKafkaBroker } from "../dev/kafka/broker.ts";
import { createHelixSource } from "../src/helix/client.ts";
import { createKafka, ensureTopic, kafkaDelivery } from "../src/kafka/client.ts";
import { readLiveState } from "../src/kafka/rebuild.ts";
import { createBatcher, type RecordSink } from "../src/scan/batcher.ts";
import { planScan, type ScanPlan } from "../src/scan/plan.ts";
import { runScan } from "../src/scan/scan.ts";
import { scanLowerBound } from "./lower_bound.ts";
import { generateStreams } from "../src/sim/mod.ts";

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

/**
 * The simulator as a process of its own (`src/sim_cli.ts`, as `deno task sim`
 * runs it), so that the figures, peak memory included, are the client's alone:
 * Twitch's servers are not on our CPU either.
 */
async function startSimProcess(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL("../src/sim_cli.ts", import.meta.url).pathname,
    ],
    env: { ...env, SIM_PORT: "0" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!/client secret:\s+\S+\n/.test(output)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the simulator exited early:\n${output}`);
    output += value;
  }
  const port = Number(/localhost:(\d+)/.exec(output)![1]);
  const id = /client id:\s+(\S+)/.exec(output)![1];
  const secret = /client secret:\s+(\S+)/.exec(output)![1];
  return {
    port,
    clientId: id,
    clientSecret: secret,
    /** Stops it and returns how many requests it answered 429. */
    async stop(): Promise<number> {
      child.kill("SIGTERM");
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        output += value;
      }
      await child.status;
      return Number(/(\d+) rate-limited/.exec(output)?.[1] ?? NaN);
    },
  };
}

async function measure(name: string, plan: ScanPlan) {
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
  const kafkaSink = createBatcher(delivery.send);
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
await admin.disconnect();
console.log(JSON.stringify(report, null, 2));
await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
if (!sameIds || sharded.ids.size !== streams) {
  console.error(
    `error: the scans disagree (sequential ${sequential.ids.size}, sharded ${sharded.ids.size} ids)`,
  );
  Deno.exit(1);
}
