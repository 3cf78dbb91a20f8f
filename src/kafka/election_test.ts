import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { COORDINATOR_NOT_FOUND_IS_DENIAL, startElection } from "./election.ts";
import type { Role } from "./leader.ts";
import { Prng } from "../sim/prng.ts";
import { incurableConsumerError } from "./errors.ts";

/** What one fake member does: join with an assignment, crash in its join, or fail to connect. */
type Script = { join: number[] } | { crash: unknown } | { refuseConnect: unknown };

/** An error as kafkajs reports a broker's error code (by kafkajs's names: code 14 is GROUP_LOAD_IN_PROGRESS). */
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
function fakeKafka(
  script: Script[] | ((index: number) => Script),
  /** How a join waits for the coordinator's answer. */
  answer: () => Promise<unknown> = () => new Promise((resolve) => setTimeout(resolve, 1)),
) {
  const stepOf = (index: number): Script =>
    typeof script === "function" ? script(index) : script[index] ?? { join: [] };
  const members: {
    crash(error: unknown): void;
    connected: boolean;
    /** In the group: joined, and neither crashed nor disconnected since. */
    joined: boolean;
  }[] = [];
  // Times a member connected while another one still was.
  const overlaps: number[] = [];
  // Crashes emitted, in order, with the index of the member.
  const crashes: { index: number; error: unknown }[] = [];
  const kafka = {
    consumer() {
      const index = members.length;
      const listeners = new Map<string, (event: { payload: unknown }) => void>();
      const events = { GROUP_JOIN: "join", HEARTBEAT: "heartbeat", CRASH: "crash" };
      const member = {
        connected: false,
        joined: false,
        crash(error: unknown) {
          // As kafkajs: the crashed consumer is disconnected before CRASH is emitted.
          member.connected = false;
          member.joined = false;
          crashes.push({ index, error });
          listeners.get(events.CRASH)?.({ payload: { error, restart: false } });
        },
      };
      const step = stepOf(index);
      members.push(member);
      return {
        events,
        on(name: string, listener: (event: { payload: unknown }) => void) {
          listeners.set(name, listener);
        },
        connect() {
          if ("refuseConnect" in step) return Promise.reject(step.refuseConnect);
          if (members.some((m) => m.connected)) overlaps.push(index);
          member.connected = true;
          return Promise.resolve();
        },
        subscribe: () => Promise.resolve(),
        async run() {
          await answer();
          if (!member.connected) return;
          if ("crash" in step) member.crash(step.crash);
          else if ("join" in step) {
            member.joined = true;
            listeners.get(events.GROUP_JOIN)?.({
              payload: { memberAssignment: { "g.coordination": step.join } },
            });
          }
        },
        disconnect() {
          member.connected = false;
          member.joined = false;
          return Promise.resolve();
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, members, overlaps, crashes };
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
    { crash: protocolError("GROUP_LOAD_IN_PROGRESS", true) },
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

Deno.test("a coordinator kafkajs cannot find counts as a denied group only when it repeats", async () => {
  const notFound = () =>
    Object.assign(new Error("Failed to find group coordinator"), {
      name: "KafkaJSGroupCoordinatorNotFound",
    });
  // Twice, as when every broker failed the lookup at once: a retry cures it.
  const blip = fakeKafka([{ join: [0] }, { crash: notFound() }, { crash: notFound() }]);
  const roles: Role[] = [];
  const election = await startElection(blip.kafka, {
    ...OPTIONS,
    onChange: (role) => roles.push(role),
    onFatal: () => assert.fail("not fatal"),
  });
  blip.members[0].crash(INCONSISTENT());
  await until(() => blip.members.length === 4 && blip.members[3].joined, "the fourth member");
  assert.deepEqual(roles, ["leader", "standby"]);
  await election.stop();

  // Three times in a row, as at every join of a denied group: fatal.
  const denied = fakeKafka([{ join: [] }, { crash: notFound() }, { crash: notFound() }, {
    crash: notFound(),
  }]);
  const fatal: string[] = [];
  const refused = await startElection(denied.kafka, {
    ...OPTIONS,
    onChange: () => {},
    onFatal: (line) => fatal.push(line),
  });
  denied.members[0].crash(notFound());
  await until(() => fatal.length > 0, "the fatal report");
  assert.equal(denied.members.length, 3);
  assert.deepEqual(fatal, [
    "the broker names no coordinator for the leader election group g, which is how kafkajs reports a group that the service's user may not use; grant it Read on group g (KAFKA_LEADER_GROUP), or set HA=off",
  ]);
  await refused.stop();
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

const SCHEDULES = 1000;

/** Errors a retry may cure, and errors it cannot, as kafkajs reports them. */
const CURABLE = [
  () => protocolError("INCONSISTENT_GROUP_PROTOCOL"),
  () => protocolError("GROUP_LOAD_IN_PROGRESS", true),
  () => Object.assign(new Error("Connection error"), { name: "KafkaJSConnectionError" }),
];
const INCURABLE = [
  () => protocolError("GROUP_AUTHORIZATION_FAILED"),
  () => Object.assign(new Error("no coordinator"), { name: "KafkaJSGroupCoordinatorNotFound" }),
];

/** One member's outcome, drawn: mostly joins and curable failures, now and then an incurable one. */
function drawStep(rng: Prng, incurable: boolean): Script {
  const u = rng.next();
  if (u < 0.25) return { join: [0] };
  if (u < 0.4) return { join: [] };
  if (u < 0.75) return { crash: CURABLE[rng.int(0, CURABLE.length - 1)]() };
  if (u < 0.85 || !incurable) return { refuseConnect: CURABLE[rng.int(0, CURABLE.length - 1)]() };
  return { crash: INCURABLE[rng.int(0, INCURABLE.length - 1)]() };
}

/** Lets pending promise callbacks run `count` times over (no timers: a schedule takes no time). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

/**
 * One random schedule: the first members' outcomes are drawn (the first one
 * always connects, as startElection's caller retries a first connect), then
 * every member joins; between them, the running member crashes or is fenced
 * at random moments. Checked: never two members at once; an incurable
 * failure stops the election once, with no member after it; otherwise the
 * election ends in the group, with the role its last join gave.
 */
async function runSchedule(rng: Prng) {
  const scripted = rng.int(1, 10);
  const incurable = rng.next() < 0.3;
  const steps: Script[] = [];
  for (let i = 0; i < scripted; i++) {
    let step = drawStep(rng, incurable);
    if (i === 0 && "refuseConnect" in step) step = { join: [] };
    steps.push(step);
  }
  const last: Script = { join: rng.next() < 0.5 ? [0] : [] };
  const { kafka, members, overlaps, crashes } = fakeKafka(
    (index) => steps[index] ?? last,
    () => turns(3),
  );
  const roles: Role[] = [];
  const fatal: unknown[] = [];
  const election = await startElection(kafka, {
    groupId: "g",
    sessionTimeoutMs: 6000,
    random: () => rng.next(),
    sleep: () => turns(2),
    onChange: (role) => roles.push(role),
    onFatal: (_line, error) => fatal.push(error),
  });
  const events = rng.int(0, 4);
  for (let i = 0; i < events; i++) {
    await turns(rng.int(0, 30));
    const current = members.findLast((m) => m.joined);
    if (rng.next() < 0.5 && current !== undefined) current.crash(CURABLE[0]());
    else await election.rejoin();
  }
  // Settle: every member past the script joins, so the members stop changing soon.
  for (let i = 0; i < 100; i++) {
    const created = members.length;
    await turns(100);
    if (fatal.length > 0 || (members.length === created && members.at(-1)!.joined)) break;
  }

  assert.deepEqual(overlaps, [], "two members at once");
  for (let i = 1; i < roles.length; i++) assert.notEqual(roles[i], roles[i - 1], "a repeated role");
  // A crash that comes while a fence already asked for a new member is not handled on its own:
  // that member is replaced anyway, and the next one meets the same cause.
  const lastCrash = crashes.findLast((c) => c.index === members.length - 1);
  if (fatal.length > 0) {
    assert.equal(fatal.length, 1, "one fatal report");
    assert.equal(fatal[0], lastCrash?.error, "of the last member's crash: none after it");
    const kind = incurableConsumerError(fatal[0]);
    assert.notEqual(kind, null);
    if (kind === "KafkaJSGroupCoordinatorNotFound") {
      // Only a lookup that failed at every one of the last joins counts as a denial.
      const last = members.slice(-COORDINATOR_NOT_FOUND_IS_DENIAL).map((_, i, all) =>
        crashes.findLast((c) => c.index === members.length - all.length + i)
      );
      for (const crash of last) {
        assert.equal(incurableConsumerError(crash?.error), kind, "a streak of lookups");
      }
    }
    assert.equal(election.role, "standby");
  } else {
    assert.equal(lastCrash === undefined || incurableConsumerError(lastCrash.error) === null, true);
    const newest = members.at(-1)!;
    assert.equal(newest.joined, true, "in the group at the end");
    assert.equal(members.filter((m) => m.connected).length, 1);
    const step = steps[members.length - 1] ?? last;
    assert.equal(election.role, "join" in step && step.join.length > 0 ? "leader" : "standby");
    assert.equal(election.outOfGroup(), null);
  }
  const outcome = fatal.length > 0 ? "fatal" : election.role;
  await election.stop();
  assert.equal(members.filter((m) => m.connected).length, 0);
  return outcome;
}

Deno.test(`the election keeps its invariants over ${SCHEDULES} random crash schedules`, async () => {
  const base = Number(Deno.env.get("ELECTION_PROPERTY_SEED") ?? Date.now() % 1_000_000_000);
  const outcomes = { leader: 0, standby: 0, fatal: 0 };
  for (let i = 0; i < SCHEDULES; i++) {
    const seed = base + i;
    try {
      outcomes[await runSchedule(new Prng(seed))]++;
    } catch (error) {
      throw new Error(
        `schedule ${i} failed; replay with ELECTION_PROPERTY_SEED=${seed}: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
  }
  console.log(
    `${SCHEDULES} schedules from ELECTION_PROPERTY_SEED=${base}: ${JSON.stringify(outcomes)}`,
  );
  // Every outcome must be reached, or the schedules do not exercise the loop.
  assert.ok(
    outcomes.leader > 100 && outcomes.standby > 100 && outcomes.fatal > 30,
    JSON.stringify(outcomes),
  );
});
