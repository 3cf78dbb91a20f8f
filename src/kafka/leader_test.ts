import assert from "node:assert/strict";
import {
  chooseLeader,
  coordinationTopic,
  decideRole,
  explainElectionFailure,
  heartbeatInterval,
  leaderGroupId,
  leaseValid,
  membershipProblem,
  rejoinDelay,
  roleReadiness,
  transactionalId,
} from "./leader.ts";

Deno.test("the member assigned the coordination partition leads; the others stand by", () => {
  assert.equal(decideRole("standby", { type: "joined", partitions: [0] }), "leader");
  assert.equal(decideRole("leader", { type: "joined", partitions: [] }), "standby");
  assert.equal(decideRole("standby", { type: "joined", partitions: [] }), "standby");
});

Deno.test("leaving the group or being fenced makes a leader a standby", () => {
  assert.equal(decideRole("leader", { type: "left" }), "standby");
  assert.equal(decideRole("leader", { type: "fenced" }), "standby");
});

Deno.test("the lease lasts a session timeout less one heartbeat interval after the last contact", () => {
  const options = { sessionTimeoutMs: 9000 };
  assert.equal(heartbeatInterval(options), 3000);
  assert.equal(leaseValid(1000, 6999, options), true);
  assert.equal(leaseValid(1000, 7000, options), false);
  // A member paused past the session timeout no longer trusts its leadership.
  assert.equal(leaseValid(1000, 1000 + 60_000, options), false);
});

Deno.test("the partition stays with the member that leads, so a joining standby moves nothing", () => {
  assert.equal(
    chooseLeader([
      { memberId: "a-1", leading: false },
      { memberId: "z-9", leading: true },
    ]),
    "z-9",
  );
  assert.equal(
    chooseLeader([{ memberId: "m-2", leading: false }, { memberId: "m-1", leading: false }]),
    "m-1",
  );
  // Two claims (a paused leader whose lease has not expired yet): the first by id wins.
  assert.equal(
    chooseLeader([{ memberId: "b", leading: true }, { memberId: "a", leading: true }]),
    "a",
  );
  assert.equal(chooseLeader([]), null);
});

Deno.test("the group, coordination topic and transactional id derive from the topic", () => {
  assert.equal(leaderGroupId("twitch-streams"), "twitch-datagen.twitch-streams.leader");
  assert.equal(
    coordinationTopic("twitch-datagen.twitch-streams.leader"),
    "twitch-datagen.twitch-streams.leader.coordination",
  );
  assert.equal(coordinationTopic("my group/1"), "my_group_1.coordination");
  assert.equal(transactionalId("twitch-streams"), "twitch-datagen.twitch-streams");
});

Deno.test("a standby is ready while the broker answers; a leader as its scans say", () => {
  const ok = { ready: true, reason: "ok" };
  const stale = { ready: false, reason: "no successful scan yet" };
  assert.deepEqual(roleReadiness("standby", true, stale), { ready: true, reason: "standby" });
  assert.deepEqual(roleReadiness("standby", false, stale), {
    ready: false,
    reason: "standby; Kafka broker unreachable",
  });
  assert.deepEqual(roleReadiness("leader", true, ok), { ready: true, reason: "leader" });
  assert.deepEqual(roleReadiness("leader", true, stale), {
    ready: false,
    reason: "leader; no successful scan yet",
  });
});

Deno.test("an instance out of the group for longer than a session timeout is not ready, and says why", () => {
  const options = { groupId: "g", sessionTimeoutMs: 10_000 };
  const out = { outSince: 1000, lastError: "INCONSISTENT_GROUP_PROTOCOL text" };
  assert.equal(membershipProblem(out, 11_000, options), null);
  const problem = membershipProblem(out, 13_600, options);
  assert.equal(
    problem,
    "not a member of the leader election group g for 13 s (INCONSISTENT_GROUP_PROTOCOL text)",
  );
  assert.equal(
    membershipProblem({ outSince: 1000, lastError: null }, 13_600, options),
    "not a member of the leader election group g for 13 s",
  );
  assert.equal(membershipProblem({ outSince: null, lastError: null }, 13_600, options), null);
  const ok = { ready: true, reason: "ok" };
  assert.deepEqual(roleReadiness("standby", true, ok, problem), {
    ready: false,
    reason:
      "standby; not a member of the leader election group g for 13 s (INCONSISTENT_GROUP_PROTOCOL text)",
  });
  assert.deepEqual(roleReadiness("standby", true, ok, null), { ready: true, reason: "standby" });
});

Deno.test("joins that keep failing wait longer each time, up to half a session timeout", () => {
  const options = { sessionTimeoutMs: 10_000 };
  const low = (n: number) => rejoinDelay(n, { ...options, random: () => 0 });
  const high = (n: number) => rejoinDelay(n, { ...options, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(low), [250, 250, 250, 250, 250, 250, 250]);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(high), [749, 1249, 2249, 4249, 4999, 4999, 4999]);
  // A short session timeout still waits a quarter second or more.
  assert.equal(rejoinDelay(9, { sessionTimeoutMs: 300, random: () => 0.999999 }), 499);
});

Deno.test("an election that cannot go on says what to grant or set, in one line", () => {
  const context = { groupId: "twitch-datagen.s.leader", sessionTimeoutMs: 700 };
  const error = new Error("first line\nsecond");
  assert.equal(
    explainElectionFailure("GROUP_AUTHORIZATION_FAILED", error, context),
    "the broker denies the service's user the leader election group twitch-datagen.s.leader (GROUP_AUTHORIZATION_FAILED); grant it Read on group twitch-datagen.s.leader (KAFKA_LEADER_GROUP), or set HA=off",
  );
  assert.equal(
    explainElectionFailure("TOPIC_AUTHORIZATION_FAILED", error, context),
    "the broker denies the service's user the coordination topic twitch-datagen.s.leader.coordination (TOPIC_AUTHORIZATION_FAILED); grant it Describe and Read on topic twitch-datagen.s.leader.coordination, or set HA=off",
  );
  assert.equal(
    explainElectionFailure("INVALID_SESSION_TIMEOUT", error, context),
    "the broker refuses KAFKA_SESSION_TIMEOUT_MS=700 (INVALID_SESSION_TIMEOUT); set it within the brokers' group.min.session.timeout.ms and group.max.session.timeout.ms",
  );
  assert.equal(
    explainElectionFailure("KafkaJSSASLAuthenticationError", error, context),
    "the leader election cannot join group twitch-datagen.s.leader (KafkaJSSASLAuthenticationError: first line); see the README's Kafka ACLs, or set HA=off",
  );
});
