/**
 * EventSub in place of polling: the service as a real process, a real
 * broker, and a churned simulation of 2,000 streams whose every channel is
 * subscribed on the conduit. After the start-up scan no scan runs (the
 * schedule is a year away), so what reaches the topic is EventSub's alone:
 * every end must be a tombstone within 3 s, and every channel that goes
 * live again must get its record once Helix lists the new broadcast.
 */

import assert from "node:assert/strict";
import { readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { NO_SCHEDULED_SCANS, simulatorAsTwitch, startService } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { waitFor } from "./support/wait.ts";

Deno.test("with polling off and all 2,000 channels subscribed, every end is tombstoned within 3 s and every return gets its record", async () => {
  await using broker = await useTestBroker();
  // A bucket large enough that 4,000 subscriptions ramp in seconds at EventSub's fifth of it.
  await using sim = await startSimulator({
    streams: 2000,
    seed: 21,
    churn: 20,
    restartRate: 1,
    rateLimit: 120_000,
  });
  const topic = uniqueTopic("eventsub-scale");
  await using service = startService([], {
    ...simulatorAsTwitch(sim),
    EVENTSUB_CHANNELS: "5000",
    SCHEDULE: NO_SCHEDULED_SCANS,
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
  });
  await service.waitForLog((l) => String(l.message ?? "").startsWith("Scan ok"), 120_000);
  const line = await service.waitForLog(
    (l) =>
      /^EventSub conduit .*: ([1-9]\d{3}) of \1 channels subscribed/.test(String(l.message ?? "")),
    120_000,
  );
  const channels = Number(line.subscribed);
  assert.ok(channels >= 1900, `only ${channels} channels subscribed`);
  const from = sim.eventsub.sent.length;
  await waitFor(
    "60 ends",
    () => sim.eventsub.sent.slice(from).filter((e) => e.type === "stream.offline").length >= 60,
    120_000,
  );
  const window = sim.eventsub.sent.slice(from);
  // Give the last events their 3 s, and each return a few seconds to be listed and looked up.
  await new Promise((r) => setTimeout(r, 8000));
  await service.stop();
  const records = await readTopic(broker.brokers, topic);

  // When the service logged the tombstone acknowledged (after Kafka's acknowledgement).
  const firstTombstone = new Map<string, number>();
  for (const l of service.logs()) {
    const result = String(l.result ?? "");
    if (l.logger !== "datagen.eventsub" || l.type !== "stream.offline") continue;
    if (!result.startsWith("produced ")) continue;
    for (const id of result.slice("produced ".length).split(",")) {
      if (!firstTombstone.has(id)) firstTombstone.set(id, Date.parse(String(l["@timestamp"])));
    }
  }
  const tombstoned = new Set(records.filter((r) => r.value === null).map((r) => r.key));
  const liveRecord = new Set(records.filter((r) => r.value !== null).map((r) => r.key!));
  // Only a broadcast the service knew (a record of it in the topic) can be tombstoned.
  const ends = window.filter((e) => e.type === "stream.offline" && liveRecord.has(e.streamId));
  const late = ends.filter((e) => {
    const at = firstTombstone.get(e.streamId);
    return at === undefined || at - e.at > 3000 || !tombstoned.has(e.streamId);
  });
  // Returns: a channel live again under a new stream id, whose start the window saw.
  // A broadcast that ended again before a look-up could list it (the first is 1 s after the
  // event) rightly gets no record.
  const endedSoon = (e: { streamId?: string; at: number }) =>
    sim.eventsub.sent.some((o) =>
      o.type === "stream.offline" && o.streamId === e.streamId && o.at - e.at < 3000
    );
  const returns = window.filter((e) =>
    e.type === "stream.online" && !endedSoon(e) &&
    window.some((o) => o.type === "stream.offline" && o.userId === e.userId && o.at <= e.at)
  );
  const missing = returns.filter((e) => !liveRecord.has(e.streamId));
  const latencies = ends.filter((e) => firstTombstone.has(e.streamId))
    .map((e) => firstTombstone.get(e.streamId)! - e.at).sort((a, b) => a - b);
  console.log(
    `${channels} channels subscribed; ${ends.length} ends of known broadcasts, tombstone p50 ${
      latencies[Math.floor(latencies.length / 2)]
    } ms, max ${latencies.at(-1)} ms; ${returns.length} returns, ${
      returns.length - missing.length
    } with their record`,
  );
  // Where the time goes: from the event's timestamp to its arrival, and from its arrival to
  // Kafka's acknowledgement of the tombstone.
  const handled = service.logs().filter((l) =>
    l.logger === "datagen.eventsub" && l.type === "stream.offline" && l.receivedAt !== undefined
  );
  const arrival = handled.map((l) => Number(l.receivedAt) - Number(l.sentAt)).sort((a, b) => a - b);
  const acked = handled.map((l) => Date.parse(String(l["@timestamp"])) - Number(l.receivedAt))
    .sort((a, b) => a - b);
  console.log(
    `event to arrival p50 ${arrival[Math.floor(arrival.length / 2)]} ms, max ${
      arrival.at(-1)
    } ms; arrival to acknowledged tombstone p50 ${acked[Math.floor(acked.length / 2)]} ms, max ${
      acked.at(-1)
    } ms`,
  );
  assert.ok(ends.length >= 40, `only ${ends.length} ends of known broadcasts`);
  assert.deepEqual(late, [], "ends without a tombstone within 3 s");
  assert.ok(returns.length >= 5, `only ${returns.length} returns`);
  const story = missing.map((e) => ({
    event: e,
    after: sim.eventsub.sent.filter((o) => o.userId === e.userId && o.at >= e.at),
    logs: service.logs().filter((l) => JSON.stringify(l).includes(e.userId)),
  }));
  assert.deepEqual(missing, [], `returns without a record: ${JSON.stringify(story)}`);
});
