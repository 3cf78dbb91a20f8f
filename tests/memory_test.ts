/**
 * A topic with more live streams than the heap holds: the service must say
 * so in one line that names the heap setting and exit non-zero, not die in a
 * V8 out-of-memory crash that its supervisor restarts into again. A small
 * heap limit keeps the topic small: the check is against the limit V8 was
 * started with, whatever its size.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, ROOT, START_FLAGS } from "./support/service.ts";
import { HEAP_BASE_BYTES, HEAP_BYTES_PER_STREAM } from "../src/ops/memory.ts";

const MiB = 1024 * 1024;
const SEMI_SPACE_MB = 4;

/** The start task's flags with a smaller old space. */
function flagsWithOldSpace(mb: number): string[] {
  return START_FLAGS.map((flag) =>
    flag.startsWith("--v8-flags=")
      ? `--v8-flags=--max-old-space-size=${mb},--max-semi-space-size=${SEMI_SPACE_MB}`
      : flag
  );
}

/** Live streams a heap started with `--max-old-space-size=mb` holds, as the service computes it. */
function capacity(mb: number): number {
  // V8's heap limit is the old space plus three semi-spaces.
  return Math.floor(((mb + 3 * SEMI_SPACE_MB) * MiB - HEAP_BASE_BYTES) / HEAP_BYTES_PER_STREAM);
}

/**
 * Joins a throwaway group (kafkajs's own consumer retries while the coordinator loads): a fresh
 * broker's group coordinator is still loading its topic at first, and the rebuild's consumer
 * gives up on that instead of retrying, which would end this run before the rebuild reads.
 */
async function groupCoordinatorLoaded(kafka: Kafka, topic: string): Promise<void> {
  const consumer = kafka.consumer({ groupId: `warm-up-${crypto.randomUUID()}` });
  const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic });
    await consumer.run({ eachBatch: async () => {} });
    await joined;
  } finally {
    await consumer.disconnect();
  }
}

Deno.test("a topic with more live streams than the heap holds stops the start-up with one line and exit code 1", async () => {
  await using broker = await useTestBroker();
  // The smallest heap that holds a few thousand streams: the topic needs only a few more.
  let oldSpaceMb = 16;
  while (capacity(oldSpaceMb) < 2000) oldSpaceMb++;
  const held = capacity(oldSpaceMb);
  const streams = held + 2000;
  const topic = uniqueTopic("memory");
  await createTopic(broker.bootstrap, topic, { partitions: 3 });
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let from = 0; from < streams; from += 1000) {
      const messages = [];
      for (let i = from; i < Math.min(streams, from + 1000); i++) {
        const id = String(40_000_000_000 + i);
        messages.push({
          key: id,
          value: JSON.stringify({
            id,
            user_id: String(100_000 + i),
            user_login: `viewer_${i}`,
            game_id: "509658",
            type: "live",
            language: "en",
            started_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          }),
        });
      }
      await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
  await groupCoordinatorLoaded(kafka, topic);

  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flagsWithOldSpace(oldSpaceMb),
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}main.ts`,
      "--once",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      HTTP_PORT: "0",
      LOG_FORMAT: "json",
      SOURCE: "simulated",
      SIM_STREAMS: "10",
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_REPLICATION_FACTOR: "1",
      HA: "off",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 1, stderr);
  assert.doesNotMatch(stderr, /Fatal JavaScript|out of memory/i);
  const errors = logLines(stderr).filter((line) => line.level === "ERROR");
  assert.equal(errors.length, 1, stderr);
  const line = String(errors[0].message);
  const match = new RegExp(
    `the start-up rebuild stopped at (\\d+) live streams in topic ${topic}: a heap of ${
      oldSpaceMb + 3 * SEMI_SPACE_MB
    } MB holds at most ${held} through a scan; raise --max-old-space-size \\(MB\\) to at least \\d+`,
  ).exec(line);
  assert.ok(match, line);
  // Stopped within a fetch of passing the limit, before reading the whole topic.
  assert.ok(Number(match[1]) > held && Number(match[1]) <= streams, line);
  assert.doesNotMatch(line, /\n/);
});
