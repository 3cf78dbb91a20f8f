import assert from "node:assert/strict";
import {
  authorizerProperties,
  brokerProperties,
  newClusterId,
  scramFormatArgs,
} from "./broker_config.ts";

const PLAIN = {
  port: 19092,
  controllerPort: 19093,
  logDir: "/data/kafka",
};

Deno.test("a plain broker listens for clients and its controller on loopback only", () => {
  const lines = brokerProperties(PLAIN).split("\n");

  assert.ok(lines.includes("listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"));
  assert.ok(lines.includes("advertised.listeners=PLAINTEXT://127.0.0.1:19092"));
  assert.ok(lines.includes("controller.quorum.voters=1@127.0.0.1:19093"));
  assert.ok(lines.includes("log.dirs=/data/kafka"));
  assert.ok(lines.includes("offsets.topic.replication.factor=1"));
  assert.ok(lines.includes("group.initial.rebalance.delay.ms=0"));
  assert.equal(lines.filter((l) => l.startsWith("auto.create.topics.enable")).length, 0);
});

Deno.test("autoCreateTopics false turns topic creation on first use off", () => {
  const lines = brokerProperties({ ...PLAIN, autoCreateTopics: false }).split("\n");

  assert.ok(lines.includes("auto.create.topics.enable=false"));
});

Deno.test("SASL and SSL add their listeners and advertise them", () => {
  const text = brokerProperties({
    ...PLAIN,
    sasl: { port: 19094, users: [{ username: "alice", password: "pw-1" }] },
    ssl: { port: 19095, keystoreFile: "/k/broker.p12", password: "abc" },
  });
  const lines = text.split("\n");

  assert.ok(lines.includes(
    "advertised.listeners=PLAINTEXT://127.0.0.1:19092,SASL_PLAINTEXT://127.0.0.1:19094,SSL://127.0.0.1:19095",
  ));
  assert.ok(lines.includes("sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"));
  assert.ok(lines.includes(
    'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="pw-1";',
  ));
  assert.ok(lines.includes("listener.name.ssl.ssl.keystore.location=/k/broker.p12"));
});

Deno.test("SCRAM users are stored under both SCRAM mechanisms at format time", () => {
  assert.deepEqual(scramFormatArgs([{ username: "alice", password: "pw-1" }]), [
    "--add-scram",
    "SCRAM-SHA-256=[name=alice,password=pw-1]",
    "--add-scram",
    "SCRAM-SHA-512=[name=alice,password=pw-1]",
  ]);
});

Deno.test("a password that would need quoting is refused in one line", () => {
  assert.throws(() => scramFormatArgs([{ username: "alice", password: 'a"b' }]), {
    message: 'Kafka test user password "a\\"b" is not allowed; use letters, digits and ._@+- only',
  });
});

Deno.test("cluster ids are 22 URL-safe base64 characters not starting with a dash", () => {
  for (let i = 0; i < 200; i++) {
    assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});

Deno.test("a node of three votes with all three controllers and keeps three copies of every topic", () => {
  const lines = brokerProperties({
    port: 19102,
    controllerPort: 19112,
    logDir: "/data/node-2",
    cluster: { nodeId: 2, controllerPorts: [19111, 19112, 19113] },
  }).split("\n");

  assert.ok(lines.includes("node.id=2"));
  assert.ok(lines.includes(
    "controller.quorum.voters=1@127.0.0.1:19111,2@127.0.0.1:19112,3@127.0.0.1:19113",
  ));
  assert.ok(lines.includes("listeners=PLAINTEXT://127.0.0.1:19102,CONTROLLER://127.0.0.1:19112"));
  for (
    const setting of [
      "default.replication.factor=3",
      "min.insync.replicas=2",
      "offsets.topic.replication.factor=3",
      "transaction.state.log.replication.factor=3",
      "transaction.state.log.min.isr=2",
      "unclean.leader.election.enable=false",
      "broker.session.timeout.ms=3000",
    ]
  ) {
    assert.ok(lines.includes(setting), setting);
  }
});

Deno.test("a single broker is node 1, its own only voter, with one copy of every topic", () => {
  const lines = brokerProperties(PLAIN).split("\n");

  assert.ok(lines.includes("node.id=1"));
  assert.ok(lines.includes("default.replication.factor=1"));
  assert.ok(lines.includes("min.insync.replicas=1"));
  assert.ok(lines.includes("transaction.state.log.min.isr=1"));
});

Deno.test("a node whose controller port is not its own entry among the voters is refused", () => {
  assert.throws(
    () =>
      brokerProperties({
        ...PLAIN,
        cluster: { nodeId: 3, controllerPorts: [19093, 19094, 19095] },
      }),
    {
      message:
        "Node 3's controller port 19093 is not entry 3 of the cluster's controller ports; list the ports by node id",
    },
  );
});

Deno.test("an authorizer checks ACLs for everyone but the listeners without login and the super users", () => {
  const expected = [
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users=User:ANONYMOUS;User:admin",
    "allow.everyone.if.no.acl.found=false",
    "",
  ].join("\n");
  assert.equal(authorizerProperties(["User:admin"]), expected);
  const text = brokerProperties({ ...PLAIN, authorizer: { superUsers: ["User:admin"] } });
  assert.ok(text.endsWith(expected));
  assert.ok(!brokerProperties(PLAIN).includes("authorizer"));
  assert.throws(() => authorizerProperties(["admin"]), TypeError);
});
