/**
 * `deno task demo`: the whole pipeline on one machine. Starts a local Kafka
 * broker, runs the service against the built-in Helix simulator, and shows
 * what lands in the topic as it arrives. Ctrl-C stops everything.
 *
 * Flags: --streams N (simulated streams, default 5000), --schedule CRON
 * (default every minute), --seconds N (stop by itself after N seconds),
 * --watch N (follow the top N channels over EventSub, default 10; 0 = off),
 * --churn X (how fast the simulated world changes, default 1; try 30 to see
 * watched channels go offline often), --realistic (the simulator behaves as
 * Twitch's Helix is reported to: lagging cache nodes, late listings, a looping
 * cursor; `SIM_REALISTIC=1`), --port N (the status page's port, default 8080;
 * any free one when it is taken or 0), --hostile (hostile titles).
 * It prints the status page's URL; open it to watch the service work.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { startKafkaBroker } from "./kafka/broker.ts";
import { startFlags } from "./start_flags.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { freePort, portIsFree } from "./ports.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const { values } = parseArgs({
  args: Deno.args,
  options: {
    streams: { type: "string", default: "5000" },
    schedule: { type: "string", default: "* * * * *" },
    seconds: { type: "string" },
    watch: { type: "string", default: "10" },
    churn: { type: "string", default: "1" },
    port: { type: "string", default: "8080" },
    hostile: { type: "boolean", default: false },
    realistic: { type: "boolean", default: false },
  },
});

const stop = new AbortController();
const onSignal = () => stop.abort();
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);
if (values.seconds) setTimeout(onSignal, Number(values.seconds) * 1000);

console.log("Starting a local Kafka broker...");
await using broker = await startKafkaBroker();
console.log(`Kafka is up at ${broker.bootstrap}; starting the service on simulated Twitch data...`);

// The service's simulator has the same data as one started here with the same seed: the top
// channels at the start are the ones to watch.
const watched = await (async () => {
  await using sim = await startSimulator({ streams: Number(values.streams), seed: 1 });
  return sim.liveStreams().slice(0, Number(values.watch)).map((s) => s.user_login);
})();
if (watched.length > 0) console.log(`[demo] watching over EventSub: ${watched.join(", ")}`);

const wanted = Number(values.port);
const httpPort = wanted > 0 && portIsFree(wanted) ? wanted : freePort();
const service = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...await startFlags(`${ROOT}deno.json`),
    "--quiet",
    "--config",
    `${ROOT}deno.json`,
    `${ROOT}main.ts`,
  ],
  env: {
    SOURCE: "simulated",
    SIM_STREAMS: values.streams!,
    SIM_CHURN: values.churn!,
    SIM_SEED: "1",
    SIM_REALISTIC: String(values.realistic),
    WATCH_USER_LOGINS: watched.join(","),
    EVENTSUB_CHANNELS: String(watched.length),
    SCHEDULE: values.schedule!,
    KAFKA_BROKERS: broker.bootstrap,
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(httpPort),
    SIM_HOSTILE_TITLES: values.hostile ? "1" : "0",
    LOG_FORMAT: "pretty",
  },
  stdin: "null",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

console.log(`[demo] processes: broker ${broker.pid}, service ${service.pid}`);
console.log(`[demo] status page: http://127.0.0.1:${httpPort}/ (Ctrl-C stops the demo)`);

const kafka = new Kafka({
  clientId: "datagen-demo",
  brokers: [broker.bootstrap],
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({ groupId: `datagen-demo-${crypto.randomUUID()}` });
const latest = new Map<string, { user_name: string; viewer_count: number; game_name: string }>();
let records = 0;
let tombstones = 0;

await waitForTopic(kafka, "twitch-streams", stop.signal);
if (!stop.signal.aborted) {
  await consumer.connect();
  await consumer.subscribe({ topic: "twitch-streams", fromBeginning: true });
  await consumer.run({
    // deno-lint-ignore require-await
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? "";
      if (message.value === null) {
        tombstones++;
        const gone = latest.get(key);
        latest.delete(key);
        if (message.headers?.["end-reason"]?.toString() === "offline") {
          // The tombstone's timestamp is when the service received the stream.offline event.
          const ms = Date.now() - Number(message.timestamp);
          console.log(
            `[demo] watched channel ${
              gone?.user_name ?? key
            } went offline: its tombstone arrived ${ms} ms after the event`,
          );
        }
      } else {
        records++;
        latest.set(key, JSON.parse(message.value.toString()));
      }
    },
  });
}

const timer = setInterval(() => {
  const top = [...latest.values()].sort((a, b) => b.viewer_count - a.viewer_count).slice(0, 5);
  console.log(
    `\n[demo] twitch-streams: ${records} records, ${tombstones} tombstones, ${latest.size} live keys. Top streams:`,
  );
  for (const s of top) {
    console.log(`  ${String(s.viewer_count).padStart(7)}  ${s.user_name} (${s.game_name})`);
  }
}, 5000);

await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
console.log("\n[demo] stopping...");
clearInterval(timer);
try {
  service.kill("SIGTERM");
} catch {
  // already gone
}
await service.status;
await consumer.disconnect().catch(() => {});
Deno.removeSignalListener("SIGINT", onSignal);
Deno.removeSignalListener("SIGTERM", onSignal);
console.log("[demo] stopped; the broker shuts down now.");

async function waitForTopic(client: Kafka, topic: string, signal: AbortSignal) {
  const admin = client.admin();
  await admin.connect();
  try {
    while (!signal.aborted && !(await admin.listTopics()).includes(topic)) {
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}
