import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { startElection } from "./election.ts";
import type { Role } from "./leader.ts";

/** What one fake member does when it runs: join with an assignment, or crash. */
type Script = { join: number[] } | { crash: unknown };

/** An error as kafkajs reports a broker's error code. */
function protocolError(type: string, retriable = false): Error {
  return Object.assign(new Error(`${type} text`), {
    name: "KafkaJSProtocolError",
    type,
    retriable,
  });
}

const INCONSISTENT = () => protocolError("INCONSISTENT_GROUP_PROTOCOL");

/**
 * A kafkajs with the consumer's shape as the election uses it. As kafkajs's
 * runner does, a join that fails emits CRASH from inside run() (with
 * `restart: false`, as the election turns kafkajs's restart off) before
 * run() resolves. Members past the script join as standbys.
 */
function fakeKafka(script: Script[]) {
  const members: {
    crash(error: unknown): void;
    connected: boolean;
  }[] = [];
  const kafka = {
    consumer() {
      const index = members.length;
      const listeners = new Map<string, (event: { payload: unknown }) => void>();
      const events = { GROUP_JOIN: "join", HEARTBEAT: "heartbeat", CRASH: "crash" };
      const member = {
        connected: false,
        crash(error: unknown) {
          member.connected = false;
          listeners.get(events.CRASH)?.({ payload: { error, restart: false } });
        },
      };
      members.push(member);
      return {
        events,
        on(name: string, listener: (event: { payload: unknown }) => void) {
          listeners.set(name, listener);
        },
        connect: () => Promise.resolve(void (member.connected = true)),
        subscribe: () => Promise.resolve(),
        async run() {
          await new Promise((resolve) => setTimeout(resolve, 1));
          const step = script[index] ?? { join: [] };
          if ("crash" in step) member.crash(step.crash);
          else {
            listeners.get(events.GROUP_JOIN)?.({
              payload: { memberAssignment: { "g.coordination": step.join } },
            });
          }
        },
        disconnect: () => Promise.resolve(void (member.connected = false)),
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, members };
}

/** Waits until `check` holds, polling every 10 ms, for at most 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 5000) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const OPTIONS = { groupId: "g", sessionTimeoutMs: 600, random: () => 0 };

Deno.test("a member that crashes while it rejoins is replaced until one survives its join", async () => {
  // The leader's member crashes; the next two are refused (another client's protocol holds
  // the group), the fourth joins and leads again.
  const { kafka, members } = fakeKafka([
    { join: [0] },
    { crash: INCONSISTENT() },
    { crash: INCONSISTENT() },
    { join: [0] },
  ]);
  const roles: Role[] = [];
  const fatal: string[] = [];
  const election = await startElection(kafka, {
    ...OPTIONS,
    onChange: (role) => roles.push(role),
    onFatal: (line) => fatal.push(line),
  });
  assert.deepEqual(roles, ["leader"]);
  members[0].crash(INCONSISTENT());
  await until(() => roles.length === 3, "leading again");
  assert.deepEqual(roles, ["leader", "standby", "leader"]);
  assert.equal(members.length, 4);
  assert.deepEqual(members.map((m) => m.connected), [false, false, false, true]);
  assert.equal(election.role, "leader");
  assert.equal(election.leading(), true);
  assert.deepEqual(fatal, []);
  await election.stop();
  assert.equal(members[3].connected, false);
});

Deno.test("a failed first join is retried as well, not only a crash after a join", async () => {
  const { kafka, members } = fakeKafka([
    { crash: protocolError("COORDINATOR_LOAD_IN_PROGRESS", true) },
    { crash: INCONSISTENT() },
    { join: [] },
  ]);
  const roles: Role[] = [];
  const election = await startElection(kafka, {
    ...OPTIONS,
    onChange: (role) => roles.push(role),
    onFatal: () => assert.fail("not fatal"),
  });
  await until(() => roles.length === 1, "the first join");
  assert.deepEqual(roles, ["standby"]);
  assert.equal(members.length, 3);
  await election.stop();
});

Deno.test("out of the group for longer than a session timeout, an instance says why it is not ready", async () => {
  let now = 1_000_000;
  const { kafka, members } = fakeKafka([
    { join: [] },
    ...Array.from({ length: 3 }, () => ({ crash: INCONSISTENT() })),
    { join: [] },
  ]);
  const election = await startElection(kafka, {
    ...OPTIONS,
    now: () => now,
    onChange: () => {},
    onFatal: () => assert.fail("not fatal"),
  });
  assert.equal(election.outOfGroup(), null);
  members[0].crash(INCONSISTENT());
  await until(() => members.length === 3, "two more joins");
  // Within a session timeout of leaving, it may still join: no verdict yet.
  now += 600;
  assert.equal(election.outOfGroup(), null);
  now += 1;
  assert.equal(
    election.outOfGroup(),
    "not a member of the leader election group g for 1 s (INCONSISTENT_GROUP_PROTOCOL text)",
  );
  await until(() => members.length === 5 && members[4].connected, "the last join");
  await until(() => election.outOfGroup() === null, "membership");
  await election.stop();
});

Deno.test("a denied group stops the election with one line, and no member joins again", async () => {
  const denied = protocolError("GROUP_AUTHORIZATION_FAILED");
  const { kafka, members } = fakeKafka([{ join: [0] }, { crash: denied }]);
  const roles: Role[] = [];
  const fatal: { line: string; error: unknown }[] = [];
  const election = await startElection(kafka, {
    ...OPTIONS,
    onChange: (role) => roles.push(role),
    onFatal: (line, error) => fatal.push({ line, error }),
  });
  members[0].crash(INCONSISTENT());
  await until(() => fatal.length > 0, "the fatal report");
  assert.deepEqual(fatal, [{
    line:
      "the broker denies the service's user the leader election group g (GROUP_AUTHORIZATION_FAILED); grant it Read on group g (KAFKA_LEADER_GROUP), or set HA=off",
    error: denied,
  }]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(members.length, 2);
  assert.deepEqual(roles, ["leader", "standby"]);
  await election.stop();
});

Deno.test("a fence replaces the member at once, and a stop ends the retries", async () => {
  const { kafka, members } = fakeKafka([{ join: [0] }, { join: [] }, { crash: INCONSISTENT() }]);
  const roles: Role[] = [];
  const election = await startElection(kafka, {
    ...OPTIONS,
    onChange: (role) => roles.push(role),
    onFatal: () => assert.fail("not fatal"),
  });
  await election.rejoin();
  assert.equal(election.role, "standby");
  await until(() => members.length === 2 && members[1].connected, "the new member");
  assert.equal(members[0].connected, false);
  members[1].crash(INCONSISTENT());
  await until(() => members.length === 3, "the third member");
  await election.stop();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(members.length, 3);
  assert.deepEqual(roles, ["leader", "standby"]);
});
