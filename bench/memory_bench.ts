/**
 * `deno task bench:memory`: peak memory of the service at scale, measured
 * as a user runs it. For each size the simulator runs as its own process
 * (rate limit raised so that runs are quick) and a local broker takes the
 * records; three processes are measured, each with the start task's
 * permission set and V8 flags:
 *
 * 1. `first scan`: `--once` on an empty topic (no live set before it);
 * 2. `rebuild`: the start-up rebuild of the topic's keys, alone;
 * 3. `restart`: `--once` again: the rebuild, then a scan with that live set
 *    as the previous one (the service's steady state: two live sets at once).
 *
 * Flags: --streams LIST (100000,300000,1000000), --v8-flags FLAGS (those of
 * the start task), --out PATH (bench/memory_results.json). The machine
 * may be shared: peak memory does not depend on load, wall times do.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startKafkaBroker } from "../dev/kafka/broker.ts";
import { createKafka } from "../src/kafka/client.ts";
import { startSimProcess } from "./sim_process.ts";

const root = new URL("../", import.meta.url);
const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const startFlags = /--v8-flags=(\S+)/.exec(denoJson.tasks.start)![1];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    streams: { type: "string", default: "100000,300000,1000000" },
    "v8-flags": { type: "string", default: startFlags },
    out: { type: "string", default: "bench/memory_results.json" },
    /** Only the restart run (rebuild, then a scan with a previous live set), after a first scan. */
    "restart-only": { type: "boolean", default: false },
    /** Extra environment of the measured processes, e.g. MALLOC_ARENA_MAX=2 (repeatable). */
    env: { type: "string", multiple: true, default: [] },
  },
});
const sizes = values.streams.split(",").map(Number);
const v8Flags = values["v8-flags"];

const external = Deno.env.get("KAFKA_BROKERS");
await using broker = external ? null : await startKafkaBroker({ heapMb: 768 });
const brokers = external ?? broker!.bootstrap;
const kafka = createKafka({
  clientId: "datagen-bench-memory",
  brokers: brokers.split(","),
  logLevel: 0,
});
const admin = kafka.admin();
await admin.connect();

interface Measured {
  mode: string;
  code: number;
  seconds: number;
  peakHeapBytes: number;
  peakHeapTotalBytes: number;
  peakExternalBytes: number;
  peakRssBytes: number;
  streams?: number;
  liveSetBytes?: number;
}

/** Runs one measured process; resolves to its `memory-bench` report. */
async function measure(args: string[], env: Record<string, string>): Promise<Measured> {
  const cwd = await Deno.makeTempDir({ prefix: "memory-bench-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-P",
        `--config=${new URL("deno.json", root).pathname}`,
        `--v8-flags=${v8Flags}`,
        new URL("_memory_child.ts", import.meta.url).pathname,
        ...args,
      ],
      cwd,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? cwd,
        ...env,
      },
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let text = "";
    let line: string | undefined;
    let peakRss = 0;
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-100_000);
      line = text.split("\n").find((l) => l.startsWith("memory-bench ") && l.endsWith("}"));
      if (line !== undefined) {
        // The child waits for stdin to close: its VmHWM is the peak of the whole run.
        const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
        peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
        await child.stdin.close();
        break;
      }
    }
    await child.status;
    if (line === undefined) {
      throw new Error(`no report from ${args.join(" ")}:\n${text.slice(-4000)}`);
    }
    const result = { ...JSON.parse(line.slice("memory-bench ".length)), peakRssBytes: peakRss };
    if (result.code !== 0) {
      throw new Error(`${args.join(" ")} exited ${result.code}:\n${text.slice(-4000)}`);
    }
    return result;
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/**
 * A fresh broker's group coordinator may still be loading when the first rebuild joins, and the
 * rebuild's consumer does not retry that yet: measure again then, up to three times.
 */
async function measureRetrying(args: string[], env: Record<string, string>): Promise<Measured> {
  for (let attempt = 1;; attempt++) {
    try {
      return await measure(args, env);
    } catch (error) {
      if (attempt >= 3 || !/coordinator is loading/.test((error as Error).message)) throw error;
      console.error(`the group coordinator was loading; measuring ${args.join(" ")} again`);
    }
  }
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const rows: Record<string, unknown>[] = [];
for (const streams of sizes) {
  const sim = await startSimProcess({
    SIM_STREAMS: String(streams),
    SIM_RATE_LIMIT: "1000000",
    SIM_CHURN: "0",
    SIM_SEED: "7",
  });
  const topic = `memory-${streams}-${crypto.randomUUID().slice(0, 8)}`;
  const env = {
    ...Object.fromEntries(values.env.map((pair) => pair.split("=", 2))),
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    TWITCH_CLIENT_ID: sim.clientId,
    TWITCH_CLIENT_SECRET: sim.clientSecret,
    TWURPLE_MOCK_API_PORT: String(sim.port),
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: topic,
    KAFKA_REPLICATION_FACTOR: "1",
    KAFKA_REBUILD_TIMEOUT_MS: "1800000",
    HA: "off",
    HTTP_PORT: "0",
    LOG_FORMAT: "json",
    LOG_LEVEL: "warning",
  };
  try {
    const runs = {
      "first scan": await measure(["service", "--once"], env),
      ...(values["restart-only"]
        ? {}
        : { rebuild: await measureRetrying(["rebuild", topic], env) }),
      restart: await measureRetrying(["service", "--once"], env),
    };
    if (runs.rebuild !== undefined && runs.rebuild.streams !== streams) {
      throw new Error(`the rebuild found ${runs.rebuild.streams} streams, expected ${streams}`);
    }
    for (const [run, m] of Object.entries(runs)) {
      const row = {
        streams,
        run,
        seconds: m.seconds,
        peakRssMb: mb(m.peakRssBytes),
        peakHeapMb: mb(m.peakHeapBytes),
        peakHeapTotalMb: mb(m.peakHeapTotalBytes),
        peakExternalMb: mb(m.peakExternalBytes),
        heapAndExternalBytesPerStream: Math.round(
          (m.peakHeapBytes + m.peakExternalBytes) / streams,
        ),
        ...(m.liveSetBytes === undefined
          ? {}
          : { liveSetBytesPerStream: Math.round(m.liveSetBytes / streams) }),
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await sim.stop();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  }
}
await admin.disconnect();

// What one more stream costs: the slope of the peak resident set between the smallest and largest
// size (the live set is in array buffers, outside the V8 heap, so the heap alone hides it).
const slope: Record<string, number> = {};
if (sizes.length > 1 && !values["restart-only"]) {
  const low = Math.min(...sizes);
  const high = Math.max(...sizes);
  for (const run of ["first scan", "rebuild", "restart"]) {
    const at = (n: number) =>
      rows.find((r) => r.streams === n && r.run === run)!.peakRssMb as number;
    slope[run] = Math.round(((at(high) - at(low)) * 1024 * 1024) / (high - low));
  }
  console.log(`resident bytes per additional live stream: ${JSON.stringify(slope)}`);
}
await Deno.writeTextFile(
  values.out,
  JSON.stringify(
    { v8Flags, measuredAt: new Date().toISOString(), rows, rssBytesPerStream: slope },
    null,
    2,
  ) + "\n",
);
