import assert from "node:assert/strict";
import {
  chooseLeader,
  coordinationTopic,
  decideRole,
  heartbeatInterval,
  leaderGroupId,
  leaseValid,
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
