/**
 * `deno task bench:eventsub`: EventSub beside the scans at Twitch's size.
 * The simulator holds 100,000 churned streams at Twitch's 800 points a
 * minute; the service runs as a real process against a real broker with
 * the schedule it ships with (a scan a minute, back to back when a scan
 * takes longer, as 100,000 streams do). A reader of the topic notes when
 * each record and tombstone arrives.
 *
 * It reports: real-time coverage (the share of live viewers in subscribed
 * channels, from the simulator's truth); tombstone latency from a stream's
 * end to its tombstone in the topic, for subscribed channels (the end is the
 * simulator's stream.offline) and for the others (the end is when the
 * simulator's live list lost the stream, looked at every 500 ms, so those
 * are up to 0.5 s short); EventSub's points during the ramp and after it;
 * and scan wall time over the rate bound of its own pages, during the ramp
 * and after it.
 *
 * Rates are Twitch's, not compressed: a minute of the run is a minute at
 * Twitch. The ramp of `EVENTSUB_CHANNELS` channels is 2 × channels creates at
 * at most EventSub's fifth of 800 a minute, so the default, the largest value
 * (5,000: 10,000 creates), takes over an hour and a half while scans run;
 * `--channels 500` (1,000 creates) ramps in about 9 minutes.
 *
 * Flags: --channels N (5000), --streams N (100000), --churn X (1), --latency MS
 * (50), --after MINUTES (5): how long to measure after the ramp,
 * --out PATH (bench/eventsub_results.json), --log PATH: the service's log lines.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { startKafkaBroker } from "../dev/kafka/broker.ts";
import { freePort } from "../dev/ports.ts";
import { createKafka, ensureTopic } from "../src/kafka/client.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { EVENTSUB_SHARE } from "../src/eventsub/pace.ts";
import { simulatorAsTwitch, startService } from "../tests/support/service.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    channels: { type: "string", default: "5000" },
    streams: { type: "string", default: "100000" },
    churn: { type: "string", default: "1" },
    latency: { type: "string", default: "50" },
    after: { type: "string", default: "5" },
    out: { type: "string", default: "bench/eventsub_results.json" },
    log: { type: "string" },
  },
});
const channels = Number(values.channels);
const streams = Number(values.streams);
const churn = Number(values.churn);
const RATE = 800;
const LARGEST = 5000;

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Share of live viewers in `userIds`, and the share the top `n` channels hold. */
function viewerShares(live: { user_id: string; viewer_count: number }[], userIds: Set<string>) {
  const total = live.reduce((sum, s) => sum + s.viewer_count, 0) || 1;
  const inSet = live.filter((s) => userIds.has(s.user_id)).reduce((s, x) => s + x.viewer_count, 0);
  const top = (n: number) => live.slice(0, n).reduce((sum, s) => sum + s.viewer_count, 0) / total;
  return { coverage: inSet / total, top: top(channels), topLargest: top(LARGEST) };
}

const log = (text: string) => console.error(`[${new Date().toISOString()}] ${text}`);

const external = Deno.env.get("KAFKA_BROKERS");
await using broker = external ? null : await startKafkaBroker();
const bootstrap = external ?? broker!.bootstrap;
await using sim = await startSimulator({
  streams,
  seed: 21,
  churn,
  latencyMs: Number(values.latency),
  rateLimit: RATE,
});
log(`simulator: ${streams} streams, churn ${churn}, ${RATE} points a minute`);

const topic = `bench-eventsub-${crypto.randomUUID().slice(0, 8)}`;
const kafka = createKafka({
  clientId: "bench-eventsub",
  brokers: bootstrap.split(","),
  logLevel: 0,
});
const admin = kafka.admin();
await admin.connect();
await ensureTopic(admin, { topic, partitions: 3, replicationFactor: 1 });
await admin.disconnect();

// The topic as a downstream reader sees it: when each key's first record and tombstone arrived.
const firstRecord = new Map<string, number>();
const firstTombstone = new Map<string, number>();
const reader = new Kafka({
  clientId: "bench-eventsub-reader",
  brokers: bootstrap.split(","),
  logLevel: logLevel.NOTHING,
}).consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 50 });
await reader.connect();
await reader.subscribe({ topic, fromBeginning: true });
await reader.run({
  // deno-lint-ignore require-await
  eachBatch: async ({ batch }) => {
    const at = Date.now();
    for (const m of batch.messages) {
      const key = m.key?.toString() ?? "";
      const seen = m.value === null ? firstTombstone : firstRecord;
      if (!seen.has(key)) seen.set(key, at);
    }
  },
});

// When each stream left the simulator's live list (for channels without EventSub).
const endedAt = new Map<string, number>();
let previous = new Set(sim.liveIds());
const poll = setInterval(() => {
  const now = Date.now();
  const current = new Set(sim.liveIds());
  for (const id of previous) if (!current.has(id)) endedAt.set(id, now);
  previous = current;
}, 500);

const httpPort = freePort();
const started = Date.now();
await using service = startService([], {
  // No young-stream hold: the simulator's Helix has no cache lag, and the hold (10 minutes by
  // default against Twitch) would be timed instead of polling.
  ...simulatorAsTwitch(sim),
  EVENTSUB_CHANNELS: String(channels),
  KAFKA_BROKERS: bootstrap,
  KAFKA_TOPIC: topic,
  HTTP_PORT: String(httpPort),
});

/** The service's counters and gauges that matter here, from `/metrics`. */
async function scrape(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const value = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line === undefined ? 0 : Number(line.split(" ")[1]);
  };
  return {
    points: value("datagen_eventsub_points_total"),
    channels: value("datagen_eventsub_channels"),
    coverage: value("datagen_eventsub_coverage_ratio"),
  };
}

const scanOk = (l: Record<string, unknown>) => String(l.message ?? "").startsWith("Scan ok");
await service.waitForLog(scanOk, 10 * 60_000);
log("start-up scan done; EventSub ramps up");
const rampLine = await service.waitForLog((l) => {
  const m = /^EventSub conduit .*: (\d+) of (\d+) channels subscribed/.exec(
    String(l.message ?? ""),
  );
  return m !== null && Number(m[1]) >= channels && m[1] === m[2];
}, 180 * 60_000);
const rampEnd = Date.parse(String(rampLine["@timestamp"]));
const atRampEnd = await scrape();
log(`ramp done: ${atRampEnd.channels} channels, ${atRampEnd.points} EventSub points`);
// EventSub's points each minute after the ramp: the backlog of changes, then the steady rate.
const perMinute: number[] = [];
let last = atRampEnd.points;
for (let minute = 0; minute < Number(values.after); minute++) {
  await new Promise((r) => setTimeout(r, 60_000));
  const now = (await scrape()).points;
  perMinute.push(now - last);
  last = now;
}
const atEnd = await scrape();
const finished = Date.now();
const subscribedUsers = new Set(
  [...sim.eventsub.registry.subscriptions.values()]
    .filter((s) => s.type === "stream.offline" && s.status === "enabled")
    .map((s) => s.condition.broadcaster_user_id),
);
const shares = viewerShares(sim.liveStreams(), subscribedUsers);
clearInterval(poll);
await service.stop();
await reader.disconnect();
if (values.log) {
  await Deno.writeTextFile(values.log, service.logs().map((l) => JSON.stringify(l)).join("\n"));
}

// Scans: wall time over the rate bound of their own requests (a page is a point; the scan's
// logged points leave EventSub's out), during the ramp and after it.
const scans = service.logs().filter(scanOk).map((l) => {
  const end = Date.parse(String(l["@timestamp"]));
  const durationMs = Number(l.durationMs);
  return { start: end - durationMs, end, durationMs, bound: (Number(l.pages) * 60_000) / RATE };
}).slice(1); // The start-up scan has the whole bucket to itself.
const ratio = (list: typeof scans) => list.map((s) => round(s.durationMs / s.bound));
const duringRamp = scans.filter((s) => s.end <= rampEnd);
const afterRamp = scans.filter((s) => s.start >= rampEnd);

// Ends: of streams the topic held, at least 3 minutes before the end (a scan had time to see it).
const offline = new Map(
  sim.eventsub.sent.filter((e) => e.type === "stream.offline").map((e) => [e.streamId, e.at]),
);
const latencies = { subscribed: [] as number[], unsubscribed: [] as number[] };
let missing = 0;
for (const [id, polledAt] of endedAt) {
  const at = offline.get(id) ?? polledAt;
  const seen = firstRecord.get(id);
  if (seen === undefined || seen > at || at > finished - 3 * 60_000) continue;
  const tombstone = firstTombstone.get(id);
  if (tombstone === undefined) {
    missing++;
    continue;
  }
  (offline.has(id) ? latencies.subscribed : latencies.unsubscribed).push(tombstone - at);
}
const summary = (list: number[]) => {
  const sorted = list.sort((a, b) => a - b);
  return { ends: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
};

const rampMinutes = (rampEnd - started) / 60_000;
const afterMinutes = (finished - rampEnd) / 60_000;
const eventsubPerMinute = RATE * EVENTSUB_SHARE;
const report = {
  date: new Date().toISOString(),
  settings: { streams, churn, channels, rateLimit: RATE, latencyMs: Number(values.latency) },
  coverage: {
    measured: round(shares.coverage, 3),
    metric: round(atEnd.coverage, 3),
    topChannelsShare: round(shares.top, 3),
    [`top${LARGEST}Share`]: round(shares.topLargest, 3),
  },
  tombstoneLatency: {
    subscribed: summary(latencies.subscribed),
    unsubscribed: summary(latencies.unsubscribed),
    endsWithoutTombstone: missing,
  },
  points: {
    ramp: atRampEnd.points,
    rampMinutes: round(rampMinutes),
    rampPerMinute: round(atRampEnd.points / rampMinutes),
    after: atEnd.points - atRampEnd.points,
    afterMinutes: round(afterMinutes),
    afterPerMinute: round((atEnd.points - atRampEnd.points) / afterMinutes),
    afterEachMinute: perMinute,
  },
  scanWallOverRateBound: { duringRamp: ratio(duringRamp), afterRamp: ratio(afterRamp) },
  [`at${LARGEST}Channels`]: {
    creates: 2 * LARGEST,
    rampMinutes: round((2 * LARGEST) / eventsubPerMinute, 1),
  },
};
console.log(JSON.stringify(report, null, 2));
await Deno.writeTextFile(values.out!, JSON.stringify(report, null, 2) + "\n");
