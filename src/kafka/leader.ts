/**
 * Leader election through Kafka's consumer-group protocol: every instance
 * joins one group on a one-partition coordination topic, and the member the
 * group assigns that partition is the leader, the only one that scans.
 *
 * The group protocol moves the partition within the session timeout when a
 * member crashes, stops or loses the network. It cannot stop a paused member
 * from believing it still leads: that is what the transactional producer's
 * fencing is for (a new leader's `initTransactions` fences the old one). The
 * lease here is the soft guard on top: a member trusts its leadership only
 * while its last contact with the group coordinator is recent enough that the
 * coordinator cannot have evicted it yet.
 *
 * The decision is pure ({@link decideRole}, {@link leaseValid}); the kafkajs
 * consumer is the thin edge ({@link startElection}).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { Buffer } from "node:buffer";
import {
  type Admin,
  AssignerProtocol,
  type Consumer,
  type Kafka,
  type PartitionAssigner,
} from "kafkajs";
import type { Readiness } from "../ops/readiness.ts";

const log = getLogger(["datagen", "leader"]);

/** An instance's role: the leader scans and produces, a standby waits. */
export type Role = "leader" | "standby";

/** What the election learns from the group, in order. */
export type ElectionEvent =
  /** Joined (or rejoined) the group with this assignment of the coordination topic. */
  | { type: "joined"; partitions: readonly number[] }
  /** The consumer crashed or was stopped: it is no longer a member. */
  | { type: "left" }
  /** The producer was fenced: another instance leads now. */
  | { type: "fenced" };

/** The role after `event`: leader exactly when the join assigned the partition. */
export function decideRole(_role: Role, event: ElectionEvent): Role {
  switch (event.type) {
    case "joined":
      return event.partitions.length > 0 ? "leader" : "standby";
    case "left":
    case "fenced":
      return "standby";
  }
}

/**
 * Whether a member last in contact with the coordinator at `lastContactAt`
 * may still act as leader at `now`: the coordinator evicts a member a
 * session timeout after its last heartbeat; a margin of one heartbeat
 * interval keeps the member from outliving its membership.
 */
export function leaseValid(
  lastContactAt: number,
  now: number,
  options: { sessionTimeoutMs: number },
): boolean {
  return now - lastContactAt < options.sessionTimeoutMs - heartbeatInterval(options);
}

/** The heartbeat interval for a session timeout: a third of it, as Kafka recommends. */
export function heartbeatInterval(options: { sessionTimeoutMs: number }): number {
  return Math.floor(options.sessionTimeoutMs / 3);
}

/** A member of the group as the assignment sees it. */
export interface Candidate {
  memberId: string;
  /** Whether the member says it leads now (its lease is valid). */
  leading: boolean;
}

/**
 * The member that gets the coordination partition: the one that leads
 * already, so that a standby joining does not move leadership; else the
 * first by member id. Null for no members.
 */
export function chooseLeader(candidates: readonly Candidate[]): string | null {
  const ids = (leading: boolean) =>
    candidates.filter((c) => !leading || c.leading).map((c) => c.memberId).sort();
  return ids(true)[0] ?? ids(false)[0] ?? null;
}

const LEADING = new TextEncoder().encode("leading");

/** An assigner that keeps the partition with the member that leads ({@link chooseLeader}). */
function stickyLeaderAssigner(topic: string, leading: () => boolean): PartitionAssigner {
  return () => ({
    name: "TwitchDatagenLeader",
    version: 0,
    // deno-lint-ignore require-await -- kafkajs awaits the assignment.
    async assign({ members }) {
      const candidates = members.map(({ memberId, memberMetadata }) => {
        const { userData } = AssignerProtocol.MemberMetadata.decode(memberMetadata) ?? {};
        return {
          memberId,
          leading: userData !== undefined && new TextDecoder().decode(userData) === "leading",
        };
      });
      const chosen = chooseLeader(candidates);
      return candidates.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: { [topic]: memberId === chosen ? [0] : [] },
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: "TwitchDatagenLeader",
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.from(leading() ? LEADING : new Uint8Array()),
        }),
      };
    },
  });
}

/** The group id that a topic's instances share unless `KAFKA_LEADER_GROUP` names another. */
export function leaderGroupId(topic: string): string {
  return `twitch-datagen.${topic}.leader`;
}

/** The coordination topic of a group: one partition, never written to. */
export function coordinationTopic(groupId: string): string {
  return `${groupId}.coordination`.replace(/[^a-zA-Z0-9._-]/g, "_").slice(0, 249);
}

/** The producer's `transactional.id`: one per topic, so that instances fence each other. */
export function transactionalId(topic: string): string {
  return `twitch-datagen.${topic}`;
}

/**
 * Readiness with the role in it: a standby is ready while the broker answers
 * (it can take over); a leader as the scans decide (`leaderVerdict`).
 */
export function roleReadiness(
  role: Role,
  brokerReachable: boolean,
  leaderVerdict: Readiness,
): Readiness {
  if (role === "standby") {
    return brokerReachable
      ? { ready: true, reason: "standby" }
      : { ready: false, reason: "standby; Kafka broker unreachable" };
  }
  return leaderVerdict.ready
    ? { ready: true, reason: "leader" }
    : { ready: false, reason: `leader; ${leaderVerdict.reason}` };
}

/** A running election. */
export interface Election {
  /** The current role. */
  readonly role: Role;
  /** Whether this member leads and its lease is still valid ({@link leaseValid}). */
  leading(): boolean;
  /** Steps down at once and rejoins the group with a new member (after a fence). */
  rejoin(): Promise<void>;
  /** Leaves the group. */
  stop(): Promise<void>;
}

/** Settings and edges of {@link startElection}. */
export interface ElectionOptions {
  groupId: string;
  sessionTimeoutMs: number;
  /** Called on the first join and once per change of role after it, in order. */
  onChange: (role: Role) => void;
  now?: () => number;
}

/** Creates the one-partition coordination topic when it is missing. */
export async function ensureCoordinationTopic(
  admin: Admin,
  topic: string,
  replicationFactor?: number,
): Promise<void> {
  const topics = await admin.listTopics();
  if (topics.includes(topic)) return;
  const cluster = await admin.describeCluster();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{
      topic,
      numPartitions: 1,
      replicationFactor: replicationFactor ?? Math.min(3, cluster.brokers.length),
    }],
  }).catch((error) => {
    // Another instance created it at the same moment.
    if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
  });
}

/**
 * Joins the group and reports the role on every change. A consumer that
 * crashes or is fenced out is replaced by a new member, so an instance never
 * stays out of the group.
 */
export async function startElection(kafka: Kafka, options: ElectionOptions): Promise<Election> {
  const now = options.now ?? Date.now;
  const topic = coordinationTopic(options.groupId);
  let role: Role = "standby";
  let lastContactAt = 0;
  let consumer: Consumer | null = null;
  let stopped = false;
  let reported = false;

  function apply(event: ElectionEvent) {
    const next = decideRole(role, event);
    // The first join is reported whatever it decides: a standby says so once.
    if (next === role && (reported || event.type !== "joined")) return;
    reported = true;
    role = next;
    options.onChange(role);
  }

  async function join() {
    const member = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
      heartbeatInterval: heartbeatInterval(options),
      // The topic stays empty: short fetch waits keep the heartbeats on time.
      maxWaitTimeInMs: 500,
      // Long enough to outlast a dead broker's removal from the cluster (a coordinator that
      // died takes seconds to move): a crash of this consumer costs a needless step-down.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
      partitionAssigners: [stickyLeaderAssigner(topic, leading)],
    });
    member.on(member.events.GROUP_JOIN, ({ payload }) => {
      lastContactAt = now();
      apply({ type: "joined", partitions: payload.memberAssignment[topic] ?? [] });
    });
    member.on(member.events.HEARTBEAT, () => {
      lastContactAt = now();
    });
    member.on(member.events.CRASH, ({ payload }) => {
      log.warn("Left the leader election group {groupId}: {error}; joining again", {
        groupId: options.groupId,
        error: payload.error?.message,
      });
      apply({ type: "left" });
      // kafkajs restarts a consumer after a retriable crash by itself; otherwise rejoin here.
      if (!payload.restart && !stopped) restart();
    });
    consumer = member;
    await member.connect();
    await member.subscribe({ topics: [topic] });
    await member.run({ eachMessage: async () => {} });
  }

  let restarting: Promise<void> | null = null;
  function restart(): Promise<void> {
    restarting ??= (async () => {
      const old = consumer;
      consumer = null;
      await old?.disconnect().catch(() => {});
      while (!stopped) {
        try {
          await join();
          break;
        } catch (error) {
          log.warn("Cannot join the leader election group {groupId} ({error}); retrying", {
            groupId: options.groupId,
            error: (error as Error).message,
          });
          await new Promise((resolve) => setTimeout(resolve, options.sessionTimeoutMs / 2));
        }
      }
    })().finally(() => {
      restarting = null;
    });
    return restarting;
  }

  function leading() {
    return role === "leader" && leaseValid(lastContactAt, now(), options);
  }

  await join();
  return {
    get role() {
      return role;
    },
    leading,
    async rejoin() {
      apply({ type: "fenced" });
      await restart();
    },
    async stop() {
      stopped = true;
      apply({ type: "left" });
      const current = consumer;
      consumer = null;
      await current?.disconnect().catch(() => {});
    },
  };
}
