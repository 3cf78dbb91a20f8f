/**
 * High availability (`HA=on`): the election decides which instance leads,
 * and each term of leadership opens a transactional session (fencing the
 * previous leader's producer, then rebuilding the live set from the topic)
 * before its first scan, and closes it when the term ends.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Kafka } from "kafkajs";
import type { Config } from "../config/config.ts";
import { kafkaTransactionalDelivery, topicPartitionCount } from "./client.ts";
import { pinPartitionCount } from "./delivery.ts";
import { type Election, ensureCoordinationTopic, startElection } from "./election.ts";
import { coordinationTopic, type Role } from "./leader.ts";
import { type KafkaSession, openSession } from "./session.ts";
import { RebuildMemoryError } from "./rebuild.ts";
import { createTerms, type Term } from "./terms.ts";

const log = getLogger(["datagen", "leader"]);

/** The leadership of one instance. */
export interface Leadership {
  /** The role the election gave this instance. */
  readonly role: Role;
  /** The running term, when this instance leads and its session is open. */
  current(): Term<KafkaSession> | null;
  /** Why this instance is out of the group for longer than a session timeout, or null. */
  outOfGroup(): string | null;
  /**
   * After the running term's producer was fenced: ends the term and rejoins the group as a
   * new member. Does nothing when the running term's delivery was not fenced (the caller's
   * delivery belongs to an ended term).
   */
  stepDown(): Promise<void>;
  /** Ends the term, then leaves the group (so that another instance takes over at once). */
  stop(): Promise<void>;
}

/** What the service does at the start and end of a term. */
export interface LeadershipHooks {
  /** The term started: the session is open and the live set rebuilt; scan now. */
  begin(term: Term<KafkaSession>): void;
  /** The term ended (its signal is aborted): resolve once its running scan has stopped. */
  end(term: Term<KafkaSession>): Promise<void>;
  /** The role changed (also called for the first role): 1 for leader, else 0. */
  role(role: Role): void;
  /**
   * This instance cannot go on (a denied ACL, a refused setting, a live set larger than the heap):
   * one line that says what to do.
   */
  fatal(line: string): void;
}

/** Whether the running term's own delivery lost leadership (false when no term runs). */
export function runningTermFenced(
  term: Term<{ delivery: { readonly lostLeadership?: boolean } }> | null,
): boolean {
  return term?.session.delivery.lostLeadership === true;
}

/** Creates the coordination topic if missing, then joins the election. */
export async function startLeadership(
  kafka: Kafka,
  config: Config & { ha: NonNullable<Config["ha"]> },
  hooks: LeadershipHooks,
): Promise<Leadership> {
  const { topic } = config.kafka;
  const { groupId } = config.ha;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureCoordinationTopic(
      admin,
      coordinationTopic(groupId),
      config.kafka.replicationFactor,
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
  let election: Election | null = null;
  // One count for every term: a new term must not adopt a count changed under the service.
  const partitions = pinPartitionCount(topic, () => topicPartitionCount(kafka, topic));
  const terms = createTerms<KafkaSession>({
    open: () =>
      openSession(
        config,
        kafka,
        kafkaTransactionalDelivery(
          kafka,
          topic,
          () => election?.leading() ?? false,
          partitions,
        ),
      ),
    close: (session) => session.delivery.close(),
    begin: hooks.begin,
    end: hooks.end,
    failed: (error) =>
      error instanceof RebuildMemoryError ? hooks.fatal(error.message) : log.warn(
        "Leader of {topic}, but the transactional producer did not open ({error}); retrying in 5 s. A broker without transactions needs HA=off",
        { topic, error: (error as Error).message },
      ),
  });
  election = await startElection(kafka, {
    groupId,
    sessionTimeoutMs: config.ha.sessionTimeoutMs,
    onChange(role) {
      if (role === "leader") {
        log.info(
          "Leadership: this instance now leads {topic} (group {groupId}); fencing the previous producer and rebuilding the live set before the first scan",
          { topic, groupId, role },
        );
      } else {
        log.info("Leadership: this instance stands by for {topic} (group {groupId})", {
          topic,
          groupId,
          role,
        });
      }
      hooks.role(role);
      terms.change(role);
    },
    onFatal: (line) => hooks.fatal(line),
  });
  const current = election;
  return {
    get role() {
      return current.role;
    },
    current: () => terms.current(),
    outOfGroup: () => current.outOfGroup(),
    async stepDown() {
      // Only the running term's own fenced delivery deposes it: a stale send of an ended
      // term (a watchlist event retried after the term closed) must not end the next one.
      if (!runningTermFenced(terms.current())) return;
      log.warn(
        "Lost leadership of {topic}: the producer was fenced or the lease ran out, so another instance leads; stepping down and rejoining as a standby",
        { topic, groupId },
      );
      await current.rejoin();
    },
    async stop() {
      await terms.stop();
      await current.stop();
    },
  };
}
