/**
 * The election's edge: one kafkajs consumer in the leader group at a time,
 * replaced whenever it crashes, is fenced out or cannot connect, with the
 * role reported on every change. The decisions it applies are in `leader.ts`.
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
import { sleep } from "../util/retry.ts";
import { incurableConsumerError } from "./errors.ts";
import {
  chooseLeader,
  coordinationTopic,
  decideRole,
  type ElectionEvent,
  explainElectionFailure,
  heartbeatInterval,
  leaseValid,
  membershipProblem,
  rejoinDelay,
  type Role,
} from "./leader.ts";

const log = getLogger(["datagen", "leader"]);

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
export interface Election {
  /** The current role. */
  readonly role: Role;
  /** Whether this member leads and its lease is still valid ({@link leaseValid}). */
  leading(): boolean;
  /** Why this instance is out of the group for longer than a session timeout, or null. */
  outOfGroup(): string | null;
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
  /**
   * Called once when the group cannot be joined and no retry can cure it (a
   * denied ACL, a refused setting), with one line that says what to do; the
   * election stops trying.
   */
  onFatal: (line: string, error: unknown) => void;
  now?: () => number;
  random?: () => number;
  /** Waits before the next join; resolves early when `signal` aborts (tests pass a fake). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
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
 * Joins in a row that end in `KafkaJSGroupCoordinatorNotFound` before it
 * counts as a denied group: kafkajs also throws it when every broker failed
 * the lookup at once (a broker restarting), which a retry cures; a denial
 * repeats at every join.
 */
export const COORDINATOR_NOT_FOUND_IS_DENIAL = 3;

/** What ends a member's time in the loop of {@link startElection}. */
type Wake =
  /** The member crashed (kafkajs emitted CRASH), or its connect or subscribe failed. */
  | { type: "failed"; error: unknown; crashed: boolean }
  /** The producer was fenced: replace the member at once. */
  | { type: "rejoin" }
  | { type: "stop" };

/**
 * Joins the group and reports the role on every change. One loop owns the
 * member: whenever it crashes (during a join or later), is fenced out, or
 * cannot connect, a new member joins, after a backoff that grows while the
 * joins keep failing, until one survives its join. Only a failure that no
 * retry cures ({@link incurableConsumerError}) ends the loop, through
 * `onFatal`. kafkajs's own restart is off, so that nothing else restarts a
 * member behind the loop's back.
 *
 * @throws when the first member cannot connect or subscribe (the caller retries).
 */
export async function startElection(kafka: Kafka, options: ElectionOptions): Promise<Election> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const wait = options.sleep ?? sleep;
  const topic = coordinationTopic(options.groupId);
  let role: Role = "standby";
  let lastContactAt = 0;
  // The member in the group (or joining it), and the last one created.
  let consumer: Consumer | null = null;
  let newest: Consumer | null = null;
  let stopped = false;
  const stopping = new AbortController();
  let reported = false;
  // Out of the group since (null while a member), and why the last join failed.
  let outSince: number | null = now();
  let lastError: string | null = null;
  // Failed joins since the last member that survived its join, and how many of the last ones
  // in a row found no coordinator.
  let failures = 0;
  let notFound = 0;
  let wake = Promise.withResolvers<Wake>();

  function apply(event: ElectionEvent) {
    const next = decideRole(role, event);
    // The first join is reported whatever it decides: a standby says so once.
    if (next === role && (reported || event.type !== "joined")) return;
    reported = true;
    role = next;
    options.onChange(role);
  }

  function createMember(): Consumer {
    const member = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
      heartbeatInterval: heartbeatInterval(options),
      // The topic stays empty: short fetch waits keep the heartbeats on time.
      maxWaitTimeInMs: 500,
      // Long enough to outlast a dead broker's removal from the cluster (a coordinator that
      // died takes seconds to move): a crash of this consumer costs a needless step-down.
      // The loop below replaces a crashed member; kafkajs must not restart it as well.
      retry: {
        retries: 10,
        initialRetryTime: 300,
        maxRetryTime: 5_000,
        restartOnFailure: () => Promise.resolve(false),
      },
      partitionAssigners: [stickyLeaderAssigner(topic, leading)],
    });
    member.on(member.events.GROUP_JOIN, ({ payload }) => {
      if (consumer !== member) return;
      lastContactAt = now();
      outSince = null;
      lastError = null;
      failures = 0;
      notFound = 0;
      apply({ type: "joined", partitions: payload.memberAssignment[topic] ?? [] });
    });
    member.on(member.events.HEARTBEAT, () => {
      if (consumer === member) lastContactAt = now();
    });
    member.on(member.events.CRASH, ({ payload }) => {
      if (consumer !== member) return;
      // No longer a member from this moment: a leader stops trusting its role at once.
      outSince ??= now();
      apply({ type: "left" });
      wake.resolve({ type: "failed", error: payload.error, crashed: true });
    });
    return member;
  }

  /** Starts a new member; kafkajs's run() resolves once its first join succeeded or crashed. */
  async function join(): Promise<void> {
    const member = createMember();
    consumer = member;
    newest = member;
    await member.connect();
    await member.subscribe({ topics: [topic] });
    await member.run({ eachMessage: async () => {} });
  }

  /** Replaces the member whenever it fails or is fenced, until stopped or beyond cure. */
  async function loop(): Promise<void> {
    while (true) {
      const reason = await wake.promise;
      wake = Promise.withResolvers();
      const old = consumer;
      consumer = null;
      if (reason.type === "stop") return;
      outSince ??= now();
      apply({ type: "left" });
      await old?.disconnect().catch(() => {});
      if (reason.type === "failed") {
        const error = reason.error;
        lastError = String((error as Error)?.message ?? error).split("\n")[0];
        const incurable = incurableConsumerError(error);
        notFound = incurable === "KafkaJSGroupCoordinatorNotFound" ? notFound + 1 : 0;
        if (
          incurable !== null &&
          (incurable !== "KafkaJSGroupCoordinatorNotFound" ||
            notFound >= COORDINATOR_NOT_FOUND_IS_DENIAL)
        ) {
          stopped = true;
          options.onFatal(explainElectionFailure(incurable, error, options), error);
          return;
        }
        failures++;
        const waitMs = rejoinDelay(failures, { ...options, random });
        if (reason.crashed) {
          log.warn("Left the leader election group {groupId}: {error}; joining again", {
            groupId: options.groupId,
            error: lastError,
            waitMs,
          });
        } else {
          log.warn("Cannot join the leader election group {groupId} ({error}); retrying", {
            groupId: options.groupId,
            error: lastError,
            waitMs,
          });
        }
        await wait(waitMs, stopping.signal);
      }
      if (stopped) return;
      await join().catch((error) =>
        // A stop or a crash that came first wins: the first wake is the one handled.
        wake.resolve({ type: "failed", error, crashed: false })
      );
      // Stopped while this member joined: it must not stay in the group.
      if (stopped) await newest?.disconnect().catch(() => {});
    }
  }

  function leading() {
    return role === "leader" && leaseValid(lastContactAt, now(), options);
  }

  try {
    await join();
  } catch (error) {
    const first = consumer as Consumer | null;
    consumer = null;
    await first?.disconnect().catch(() => {});
    throw error;
  }
  void loop();
  return {
    get role() {
      return role;
    },
    leading,
    outOfGroup() {
      return membershipProblem({ outSince, lastError }, now(), options);
    },
    rejoin() {
      apply({ type: "fenced" });
      // Between two members (a join failed and the next waits) the next one is new anyway.
      if (!stopped && consumer !== null) wake.resolve({ type: "rejoin" });
      return Promise.resolve();
    },
    async stop() {
      stopped = true;
      stopping.abort();
      apply({ type: "left" });
      wake.resolve({ type: "stop" });
      // Not waiting for the loop: a join in progress may take kafkajs's retries to give up.
      const current = consumer;
      consumer = null;
      await current?.disconnect().catch(() => {});
    },
  };
}
