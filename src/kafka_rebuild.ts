/**
 * The start-up rebuild: the live set read back from the topic itself, which
 * is the service's only state store.
 *
 * @module
 */

import type { Kafka } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import { type LiveStream, liveStream } from "./record.ts";
import type { LiveState } from "./endings.ts";

const log = getLogger(["datagen", "kafka"]);

/**
 * Reads the topic from the start to its current end and returns the live
 * streams it holds: the newest value per key, tombstones delete. The topic
 * is the only state store, so a restarted service knows what it had produced.
 */
export async function readLiveState(kafka: Kafka, topic: string): Promise<LiveState> {
  const state: LiveState = new Map();
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `twitch-datagen-rebuild-${crypto.randomUUID()}`;
  let skipped = 0;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const pending = new Map<number, bigint>();
    for (const o of offsets) {
      if (BigInt(o.high) > BigInt(o.low)) pending.set(o.partition, BigInt(o.high));
    }
    if (pending.size === 0) return state;
    const consumer = kafka.consumer({
      groupId,
      // Small fetches: the rebuild is bound by parsing, and big ones only raise the memory peak.
      maxBytes: 4 * 1024 * 1024,
      maxBytesPerPartition: 1024 * 1024,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    try {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        // deno-lint-ignore require-await
        eachBatch: async ({ batch }) => {
          try {
            for (const message of batch.messages) {
              const key = message.key?.toString("utf8");
              if (key === undefined) continue;
              if (message.value === null) {
                state.delete(key);
                continue;
              }
              const live = parseLive(message.value.toString("utf8"));
              if (live === null) skipped++;
              else state.set(key, live);
            }
            const high = pending.get(batch.partition);
            if (high !== undefined && BigInt(batch.lastOffset()) + 1n >= high) {
              pending.delete(batch.partition);
              if (pending.size === 0) resolve();
            }
          } catch (error) {
            reject(error);
          }
        },
      });
      await promise;
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => {});
    if (skipped > 0) {
      log.warn("Ignored {skipped} records of {topic} that are not Helix stream objects", {
        skipped,
        topic,
      });
    }
    return state;
  } finally {
    await admin.disconnect();
  }
}

/** The fields a later scan needs from a record's value, or null when it is not a stream object. */
export function parseLive(text: string): LiveStream | null {
  // The values are JSON.stringify output of Helix objects, where a quote inside
  // a string is always escaped, so these patterns can only match top-level
  // fields. Reading a few fields this way spares the start-up rebuild a full
  // parse (and its garbage) per record; anything unusual takes the full parse.
  const userId = /"user_id":"(\d+)"/.exec(text)?.[1];
  const startedAt = /"started_at":"([0-9T:.Z+-]+)"/.exec(text)?.[1];
  const language = /"language":"([a-zA-Z0-9-]*)"/.exec(text)?.[1];
  const gameId = /"game_id":"(\d*)"/.exec(text)?.[1];
  const userLogin = /"user_login":"(\w+)"/.exec(text)?.[1];
  if (
    userId !== undefined && startedAt !== undefined && language !== undefined &&
    gameId !== undefined && userLogin !== undefined
  ) {
    return liveStream({
      user_id: userId,
      started_at: startedAt,
      language,
      game_id: gameId,
      // A match can be a slice that keeps the whole record's text alive: copy it out.
      user_login: JSON.parse(`"${userLogin}"`),
    });
  }
  try {
    const value = JSON.parse(text);
    if (typeof value?.user_id !== "string" || typeof value?.started_at !== "string") return null;
    return liveStream({
      user_id: value.user_id,
      started_at: value.started_at,
      language: typeof value.language === "string" ? value.language : "",
      game_id: typeof value.game_id === "string" ? value.game_id : "",
      user_login: typeof value.user_login === "string" ? value.user_login : "",
    });
  } catch {
    return null;
  }
}
