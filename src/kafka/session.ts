/**
 * A producer session on the topic: the topics made sure of, the producer
 * connected, and the live set rebuilt from what the topic holds.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Kafka } from "kafkajs";
import type { Config } from "../config/config.ts";
import type { LiveState } from "../scan/endings.ts";
import { ensureTopic } from "./client.ts";
import type { Delivery } from "./delivery.ts";
import { readLiveState, rebuildOptions } from "./rebuild.ts";

const log = getLogger(["datagen", "service"]);

/** A connected producer and what the topic held at start-up. */
export interface KafkaSession {
  kafka: Kafka;
  /** `lostLeadership` is set by the transactional delivery once it was fenced (HA=on). */
  delivery: Delivery & { readonly lostLeadership?: boolean };
  state: LiveState;
  /**
   * Broadcasts stream.offline ended, as the topic's tombstones tell (`end-reason: offline`), and
   * when, as far back as the topic still holds them.
   */
  ended?: ReadonlyMap<string, number>;
}

/** Creates the topic when missing; warns when it is not compacted. */
export async function prepareTopics(config: Config, kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topic = await ensureTopic(admin, {
      topic: config.kafka.topic,
      partitions: config.kafka.partitions,
      replicationFactor: config.kafka.replicationFactor,
    });
    if (topic.created) {
      log.info("Created topic {topic} ({partitions} partitions, cleanup.policy=compact)", {
        topic: config.kafka.topic,
        partitions: topic.partitions,
      });
    } else if (!topic.cleanupPolicy.split(",").includes("compact")) {
      log.warn(
        "Topic {topic} has cleanup.policy={policy}, not compact: ended streams' old records are never cleaned up; consider `cleanup.policy=compact`",
        { topic: config.kafka.topic, policy: topic.cleanupPolicy },
      );
    }
  } finally {
    await admin.disconnect();
  }
}

/** Connects the producer (with HA, this fences the old leader), then rebuilds the live set. */
export async function openSession(
  config: Config,
  kafka: Kafka,
  delivery: KafkaSession["delivery"],
): Promise<KafkaSession> {
  await delivery.connect();
  const started = performance.now();
  // The ledger keeps the last 48 hours of them; a compacted topic holds tombstones for less.
  const ended = new Map<string, number>();
  const onEnded = (id: string, at: number) => void ended.set(id, at);
  const state = await readLiveState(kafka, config.kafka.topic, {
    ...rebuildOptions(config),
    onEnded,
  })
    .catch(async (error) => {
      // The caller retries with a new session: this one's producer must not linger.
      await delivery.close();
      throw error;
    });
  log.info("Rebuilt the live set from {topic}: {streams} streams in {ms} ms", {
    topic: config.kafka.topic,
    streams: state.size,
    ms: Math.round(performance.now() - started),
  });
  // A key whose newest value is live again is no ended broadcast, whatever tombstone came before.
  for (const id of ended.keys()) if (state.has(id)) ended.delete(id);
  return { kafka, delivery, state, ended };
}
