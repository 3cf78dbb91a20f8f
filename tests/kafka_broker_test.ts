import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from "kafkajs";
import { type KafkaBroker, startKafkaBroker } from "../dev/kafka/broker.ts";
import {
  createTopic,
  readTopic,
  topicConfig,
  topicPartitions,
  useTestBroker,
  withTestBroker,
} from "./support/kafka.ts";
import {
  evalUntilFirstLine,
  pathExists,
  processesMentioning,
  processExists,
} from "./support/processes.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Sends `messages` to `topic` with kafkajs, waiting for all replicas, and disconnects. */
async function produce(
  config: KafkaConfig,
  topic: string,
  messages: { key: string; value: string | null; headers?: Record<string, string> }[],
): Promise<void> {
  const producer = new Kafka({ logLevel: logLevel.NOTHING, retry: { retries: 2 }, ...config })
    .producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Polls `check` until it holds; fails with `what` after a generous minute. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`still not true after a minute: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const STREAMS = [
  { key: "40934651398", value: '{"id":"40934651398","user_login":"kai","viewer_count":1204}' },
  { key: "40934651399", value: '{"id":"40934651399","user_login":"zoë","viewer_count":7}' },
  { key: "40934651400", value: '{"id":"40934651400","title":"tabs\\tand \\"quotes\\""}' },
  { key: "40934651398", value: '{"id":"40934651398","user_login":"kai","viewer_count":1300}' },
  { key: "40934651401", value: '{"id":"40934651401","user_login":"ana","viewer_count":0}' },
  { key: "40934651399", value: null },
  { key: "40934651400", value: '{"id":"40934651400","title":"second"}' },
  { key: "40934651398", value: null },
];

Deno.test("records produced with kafkajs are read back by kcat with exact keys and values, in order per partition", async () => {
  await using broker = await startKafkaBroker();
  await createTopic(broker.bootstrap, "streams", { partitions: 3 });
  await produce({ brokers: [broker.bootstrap] }, "streams", STREAMS);

  const records = await readTopic(broker.bootstrap, "streams");

  assert.equal(records.length, STREAMS.length);
  const partitionOfKey = new Map<string, number>();
  for (const record of records) {
    assert.ok(record.key !== null);
    const seen = partitionOfKey.get(record.key) ?? record.partition;
    assert.equal(record.partition, seen, `key ${record.key} is in one partition`);
    partitionOfKey.set(record.key, record.partition);
  }
  for (const partition of [0, 1, 2]) {
    const expected = STREAMS.filter((m) => partitionOfKey.get(m.key) === partition);
    const actual = records.filter((r) => r.partition === partition);
    assert.deepEqual(
      actual.map((r) => ({ offset: r.offset, key: r.key, value: r.value })),
      expected.map((m, offset) => ({ offset, key: m.key, value: m.value })),
    );
  }
});

Deno.test("headers, an empty value and a tombstone are told apart when read back", async () => {
  await using broker = await startKafkaBroker();
  await createTopic(broker.bootstrap, "one");
  await produce({ brokers: [broker.bootstrap] }, "one", [
    { key: "a", value: "{}", headers: { "content-type": "application/json", trace: "" } },
    { key: "b", value: "" },
    { key: "c", value: null },
  ]);

  const records = await readTopic(broker.bootstrap, "one");

  assert.deepEqual(records.map(({ timestamp: _, ...rest }) => rest), [
    {
      partition: 0,
      offset: 0,
      key: "a",
      value: "{}",
      headers: { "content-type": "application/json", trace: "" },
    },
    { partition: 0, offset: 1, key: "b", value: "", headers: {} },
    { partition: 0, offset: 2, key: "c", value: null, headers: {} },
  ]);
});

Deno.test("a topic's records survive a SIGKILL of the broker and a restart on the same port", async () => {
  await using broker = await startKafkaBroker();
  const bootstrap = broker.bootstrap;
  await createTopic(bootstrap, "durable", { partitions: 3 });
  await produce({ brokers: [bootstrap] }, "durable", STREAMS);
  const before = await readTopic(bootstrap, "durable");
  const killedPid = broker.pid!;

  await broker.kill();
  assert.equal(broker.pid, undefined);
  assert.equal(await processExists(killedPid), false);
  await broker.start();

  assert.equal(broker.bootstrap, bootstrap);
  assert.notEqual(broker.pid, killedPid);
  assert.deepEqual(await readTopic(bootstrap, "durable"), before);
  assert.equal(before.length, STREAMS.length);
});

Deno.test("closing the broker leaves neither its JVM nor its folder behind", async () => {
  const broker = await startKafkaBroker();
  const pid = broker.pid!;
  const dir = broker.dir;
  assert.equal(await processExists(pid), true);
  assert.equal(await pathExists(`${dir}/data/meta.properties`), true);
  // The JVM and the watchdog that would clean up after a crashed test.
  assert.equal((await processesMentioning(dir)).length, 2);

  await broker.close();

  assert.equal(await processExists(pid), false);
  assert.deepEqual(await processesMentioning(dir), []);
  assert.equal(await pathExists(dir), false);
});

Deno.test("a broker given a data folder keeps it, with its topics, after closing", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kafka-broker-test-" });
  try {
    {
      await using broker = await startKafkaBroker({ dataDir });
      await createTopic(broker.bootstrap, "kept", { partitions: 2 });
    }
    await using again = await startKafkaBroker({ dataDir });
    assert.equal(await topicPartitions(again.bootstrap, "kept"), 2);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("when the process that started a broker dies, its JVM and folder go too", async () => {
  const script = `
    import { startKafkaBroker } from "${new URL("../dev/kafka/broker.ts", import.meta.url)}";
    const broker = await startKafkaBroker();
    console.log(JSON.stringify({ pid: broker.pid, dir: broker.dir }));
    setInterval(() => {}, 1000);
  `;
  const parent = await evalUntilFirstLine(["--config", `${ROOT}deno.json`], script);
  const line = parent.line;
  const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
  assert.equal(await processExists(pid), true);

  await parent.kill();

  await eventually(`JVM ${pid} is gone`, async () => !(await processExists(pid)));
  await eventually(`${dir} is removed`, async () => !(await pathExists(dir)));
  assert.deepEqual(await processesMentioning(dir), []);
});

Deno.test("an aborted start rejects with the abort and leaves no JVM behind", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kafka-broker-test-" });
  try {
    await assert.rejects(startKafkaBroker({ dataDir, signal: AbortSignal.abort() }), {
      name: "AbortError",
    });

    assert.equal(await pathExists(`${dataDir}/data/meta.properties`), true);
    assert.deepEqual(await processesMentioning(dataDir), []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a fixed port that is taken fails the start with a one-line reason", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;

  await assert.rejects(startKafkaBroker({ port }), {
    message: `Port ${port} on 127.0.0.1 is in use; stop what holds it or choose another port`,
  });
});

Deno.test("topics are not created on first use when autoCreateTopics is false", async () => {
  await using broker = await startKafkaBroker({ autoCreateTopics: false });
  await createTopic(broker.bootstrap, "made", { config: { "cleanup.policy": "compact" } });

  await assert.rejects(readTopic(broker.bootstrap, "never-made"), /Unknown topic or partition/);
  assert.equal((await topicConfig(broker.bootstrap, "made"))["cleanup.policy"], "compact");
});

const USERS = [{ username: "datagen", password: "s3cret-pass" }];

/** kafkajs login settings for the test user with every mechanism the broker offers. */
function logins(password: string): SASLOptions[] {
  const username = "datagen";
  return [
    { mechanism: "plain", username, password },
    { mechanism: "scram-sha-256", username, password },
    { mechanism: "scram-sha-512", username, password },
  ];
}

Deno.test("kafkajs produces through the SASL listener with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512", async () => {
  await using broker = await startKafkaBroker({ sasl: { users: USERS } });
  await createTopic(broker.bootstrap, "sasl");
  for (const sasl of logins("s3cret-pass")) {
    await produce({ brokers: [broker.saslBootstrap!], sasl }, "sasl", [
      { key: sasl.mechanism, value: `via ${sasl.mechanism}` },
    ]);
  }

  const records = await readTopic(broker.bootstrap, "sasl");

  assert.deepEqual(records.map((r) => [r.key, r.value]), [
    ["plain", "via plain"],
    ["scram-sha-256", "via scram-sha-256"],
    ["scram-sha-512", "via scram-sha-512"],
  ]);
});

Deno.test("the SASL listener refuses a wrong password with every mechanism", async () => {
  await using broker = await startKafkaBroker({ sasl: { users: USERS } });
  for (const sasl of logins("wrong-pass")) {
    await assert.rejects(
      produce({ brokers: [broker.saslBootstrap!], retry: { retries: 0 }, sasl }, "sasl", [
        { key: "k", value: "v" },
      ]),
      { name: "KafkaJSSASLAuthenticationError" },
      sasl.mechanism,
    );
  }
});

Deno.test("kafkajs produces through the SSL listener when it trusts the broker's CA", async () => {
  await using broker = await startKafkaBroker({ ssl: true });
  await createTopic(broker.bootstrap, "tls");

  await produce(
    {
      brokers: [broker.sslBootstrap!],
      ssl: { ca: [await Deno.readTextFile(broker.caFile!)] },
    },
    "tls",
    [{ key: "k", value: "over tls" }],
  );

  assert.deepEqual((await readTopic(broker.bootstrap, "tls")).map((r) => [r.key, r.value]), [
    ["k", "over tls"],
  ]);
});

Deno.test("the SSL listener is refused by a client that does not trust the broker's CA", async () => {
  await using broker = await startKafkaBroker({ ssl: true });

  await assert.rejects(
    produce({ brokers: [broker.sslBootstrap!], retry: { retries: 0 }, ssl: true }, "tls", [
      { key: "k", value: "v" },
    ]),
    { message: "Connection error: self-signed certificate in certificate chain" },
  );
});

Deno.test("useTestBroker uses the brokers in KAFKA_BROKERS instead of starting one", async () => {
  const saved = Deno.env.get("KAFKA_BROKERS");
  Deno.env.set("KAFKA_BROKERS", "kafka-a:9092, kafka-b:9093");
  try {
    await using broker = await useTestBroker();

    assert.equal(broker.bootstrap, "kafka-a:9092,kafka-b:9093");
    assert.deepEqual(broker.brokers, ["kafka-a:9092", "kafka-b:9093"]);
    assert.equal(broker.local, undefined);
  } finally {
    if (saved === undefined) Deno.env.delete("KAFKA_BROKERS");
    else Deno.env.set("KAFKA_BROKERS", saved);
  }
});

Deno.test("withTestBroker closes the broker it started even when the test body throws", async () => {
  let local: KafkaBroker | undefined;
  let pid = 0;

  await assert.rejects(
    withTestBroker(async (broker) => {
      local = broker.local;
      pid = broker.local!.pid!;
      assert.equal(broker.bootstrap, broker.local!.bootstrap);
      await createTopic(broker.brokers, "doomed");
      throw new Error("the test failed");
    }, { own: true }),
    { message: "the test failed" },
  );

  assert.equal(await processExists(pid), false);
  assert.equal(await pathExists(local!.dir), false);
});
