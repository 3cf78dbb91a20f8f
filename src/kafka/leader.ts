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
 * The decisions are pure ({@link decideRole}, {@link leaseValid},
 * {@link chooseLeader}, {@link rejoinDelay}); the kafkajs consumer is the thin
 * edge, in `election.ts`.
 *
 * @module
 */
import type { Readiness } from "../ops/readiness.ts";
import { backoffDelay } from "../util/retry.ts";

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
 * (it can take over) and it is a member of the group; a leader as the scans
 * decide (`leaderVerdict`). `outOfGroup` is why this instance could not join
 * the group for longer than a session timeout ({@link membershipProblem}).
 */
export function roleReadiness(
  role: Role,
  brokerReachable: boolean,
  leaderVerdict: Readiness,
  outOfGroup: string | null = null,
): Readiness {
  if (outOfGroup !== null) return { ready: false, reason: `standby; ${outOfGroup}` };
  if (role === "standby") {
    return brokerReachable
      ? { ready: true, reason: "standby" }
      : { ready: false, reason: "standby; Kafka broker unreachable" };
  }
  return leaderVerdict.ready
    ? { ready: true, reason: "leader" }
    : { ready: false, reason: `leader; ${leaderVerdict.reason}` };
}

/**
 * Why an instance outside the group since `outSince` cannot take over, once
 * that lasted longer than a session timeout (the time the group takes to
 * replace a member); null while it is a member or may still join.
 */
export function membershipProblem(
  membership: { outSince: number | null; lastError: string | null },
  now: number,
  options: { groupId: string; sessionTimeoutMs: number },
): string | null {
  const { outSince, lastError } = membership;
  if (outSince === null || now - outSince <= options.sessionTimeoutMs) return null;
  const seconds = Math.round((now - outSince) / 1000);
  return `not a member of the leader election group ${options.groupId} for ${seconds} s${
    lastError === null ? "" : ` (${lastError})`
  }`;
}

/**
 * The wait before joining again after failed join number `failures`
 * (1-based): a quarter second plus capped exponential backoff with jitter,
 * at most half a session timeout, so that a member whose join keeps
 * failing neither spins nor waits long once the cause is gone.
 */
export function rejoinDelay(
  failures: number,
  options: { sessionTimeoutMs: number; random: () => number },
): number {
  const capMs = Math.max(250, options.sessionTimeoutMs / 2 - 250);
  return 250 + backoffDelay(failures, { baseMs: 500, capMs, random: options.random });
}

/**
 * One line for an election that cannot go on, naming what to grant or set.
 * `incurable` is the type or name {@link incurableConsumerError} found.
 */
export function explainElectionFailure(
  incurable: string,
  error: unknown,
  context: { groupId: string; sessionTimeoutMs: number },
): string {
  const { groupId } = context;
  const topic = coordinationTopic(groupId);
  const message = String((error as { message?: unknown })?.message ?? error).split("\n")[0];
  switch (incurable) {
    case "GROUP_AUTHORIZATION_FAILED":
      return `the broker denies the service's user the leader election group ${groupId} (GROUP_AUTHORIZATION_FAILED); grant it Read on group ${groupId} (KAFKA_LEADER_GROUP), or set HA=off`;
    case "KafkaJSGroupCoordinatorNotFound":
      return `the broker names no coordinator for the leader election group ${groupId}, which is how kafkajs reports a group that the service's user may not use; grant it Read on group ${groupId} (KAFKA_LEADER_GROUP), or set HA=off`;
    case "TOPIC_AUTHORIZATION_FAILED":
      return `the broker denies the service's user the coordination topic ${topic} (TOPIC_AUTHORIZATION_FAILED); grant it Describe and Read on topic ${topic}, or set HA=off`;
    case "INVALID_SESSION_TIMEOUT":
      return `the broker refuses KAFKA_SESSION_TIMEOUT_MS=${context.sessionTimeoutMs} (INVALID_SESSION_TIMEOUT); set it within the brokers' group.min.session.timeout.ms and group.max.session.timeout.ms`;
    case "UNKNOWN_TOPIC_OR_PARTITION":
      return `the coordination topic ${topic} of the leader election is gone (UNKNOWN_TOPIC_OR_PARTITION); restart the service to create it again`;
    default:
      return `the leader election cannot join group ${groupId} (${incurable}: ${message}); see the README's Kafka ACLs, or set HA=off`;
  }
}

/** A running election. */
