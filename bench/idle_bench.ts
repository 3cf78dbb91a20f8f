/**
 * `deno task bench:idle`: the CPU a process uses between scans, when it has
 * nothing to do. Measured from /proc (user + system ticks) over an idle
 * window, for:
 * - the service itself (simulated source, a start-up scan, then a schedule
 *   far in the future), as it ships;
 * - a bare kafkajs client (a connected producer and admin) with and without
 *   the request-queue patch, to show what the patch removes.
 *
 * Flags: --seconds N (30), --streams N (1000), --out PATH (bench/idle_results.json).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startKafkaBroker } from "../dev/kafka/broker.ts";
import { NO_SCHEDULED_SCANS, ROOT, startService } from "../tests/support/service.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "30" },
    streams: { type: "string", default: "1000" },
    out: { type: "string", default: "bench/idle_results.json" },
  },
});
const seconds = Number(values.seconds);
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** User + system CPU ticks of a process so far. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU used by `pid` over the idle window: percent of one core, and CPU seconds per idle minute. */
async function measureIdle(pid: number) {
  const before = await cpuTicks(pid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const ticks = (await cpuTicks(pid)) - before;
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = ticks / CLOCK_TICKS;
  return {
    ticks,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    percentOfOneCore: Math.round((cpuSeconds / wallSeconds) * 1000) / 10,
    cpuSecondsPerIdleMinute: Math.round((cpuSeconds / wallSeconds) * 60 * 100) / 100,
  };
}

const external = Deno.env.get("KAFKA_BROKERS");
await using broker = external ? null : await startKafkaBroker();
const brokers = external ?? broker!.bootstrap;

async function serviceIdle() {
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: values.streams!,
    SIM_CHURN: "0",
    SCHEDULE: NO_SCHEDULED_SCANS,
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: `idle-${crypto.randomUUID().slice(0, 8)}`,
    KAFKA_REPLICATION_FACTOR: "1",
    HTTP_PORT: "0",
  });
  await service.waitForLog((l) => String(l.message ?? "").startsWith("Scan ok"), 120_000);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return await measureIdle(service.process.pid);
}

/** A bare kafkajs producer and admin, connected and idle, in a process of their own. */
async function kafkajsIdle(patched: boolean) {
  const script = `
    import { Kafka, logLevel } from "kafkajs";
    import { patchKafkajsIdleLoop } from "./src/kafka/kafkajs_patch.ts";
    if (${patched}) patchKafkajsIdleLoop();
    const kafka = new Kafka({ clientId: "idle", brokers: ${
    JSON.stringify(brokers.split(","))
  }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: "idle-probe", messages: [{ key: "k", value: "v" }] });
    console.log("ready");
    await new Promise(() => {});
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--config", `${ROOT}deno.json`, script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the kafkajs idle probe exited early");
    out += value;
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  try {
    return await measureIdle(child.pid);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel().catch(() => {});
  }
}

const report = {
  date: new Date().toISOString(),
  settings: { seconds, streams: Number(values.streams), deno: Deno.version.deno },
  service: await serviceIdle(),
  kafkajsUnpatched: await kafkajsIdle(false),
  kafkajsPatched: await kafkajsIdle(true),
};
console.log(JSON.stringify(report, null, 2));
await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
