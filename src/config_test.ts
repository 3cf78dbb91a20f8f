import assert from "node:assert/strict";
import { mergeEnvironment, parseConfig } from "./config.ts";
import { parseFlags } from "./flags.ts";
import { ConfigError } from "./errors.ts";

const twitch = { TWITCH_CLIENT_ID: "abc123", TWITCH_CLIENT_SECRET: "s3cr3t-value" };

Deno.test("defaults follow the contract", () => {
  const config = parseConfig(twitch);
  assert.equal(config.source, "twitch");
  assert.deepEqual(config.kafka.brokers, ["localhost:9092"]);
  assert.equal(config.kafka.topic, "twitch-streams");
  assert.equal(config.kafka.clientId, "twitch-datagen");
  assert.equal(config.kafka.partitions, 3);
  assert.equal(config.kafka.replicationFactor, undefined);
  assert.equal(config.schedule.source, "* * * * *");
  assert.deepEqual(config.filters, {
    languages: [],
    gameIds: [],
    userLogins: [],
    maxStreams: undefined,
  });
  assert.deepEqual(config.log, { level: "info", format: "json" });
  assert.deepEqual(config.http, { host: "0.0.0.0", port: 8080 });
  assert.equal(config.sim, undefined);
});

Deno.test("log format defaults to pretty on a terminal", () => {
  assert.equal(parseConfig(twitch, { stderrIsTerminal: true }).log.format, "pretty");
});

Deno.test("lists are trimmed, lower-cased where Helix is case-insensitive, and de-duplicated", () => {
  const config = parseConfig({
    ...twitch,
    STREAM_LANGUAGES: " en, DE ,en,,other",
    STREAM_USER_LOGINS: "Foo,bar_1",
    STREAM_GAME_IDS: "509658,32982",
    KAFKA_BROKERS: "a:9092, b.example.com:9093,[::1]:9094",
  });
  assert.deepEqual(config.filters.languages, ["en", "de", "other"]);
  assert.deepEqual(config.filters.userLogins, ["foo", "bar_1"]);
  assert.deepEqual(config.filters.gameIds, ["509658", "32982"]);
  assert.deepEqual(config.kafka.brokers, ["a:9092", "b.example.com:9093", "[::1]:9094"]);
});

Deno.test("SASL and TLS settings are collected together", () => {
  const config = parseConfig({
    ...twitch,
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: "alice",
    KAFKA_SASL_PASSWORD: "pw",
    KAFKA_SSL_CA_FILE: "/etc/ca.pem",
  });
  assert.deepEqual(config.kafka.sasl, {
    mechanism: "scram-sha-512",
    username: "alice",
    password: "pw",
  });
  assert.deepEqual(config.kafka.ssl, {
    caFile: "/etc/ca.pem",
    certFile: undefined,
    keyFile: undefined,
  });
  assert.deepEqual(parseConfig({ ...twitch, KAFKA_SSL: "true" }).kafka.ssl, {
    caFile: undefined,
    certFile: undefined,
    keyFile: undefined,
  });
});

Deno.test("the simulated source needs no Twitch credentials", () => {
  const config = parseConfig({ SOURCE: "simulated", SIM_STREAMS: "100" });
  assert.equal(config.source, "simulated");
  assert.equal(config.sim?.streams, 100);
});

Deno.test("the environment wins over the .env file, and flags win over both", () => {
  const env = mergeEnvironment({ KAFKA_TOPIC: "from-env" }, {
    envFileText: "KAFKA_TOPIC=from-file\nSCHEDULE='*/5 * * * *'\nHTTP_PORT=1\n",
    overrides: { HTTP_PORT: "2" },
  });
  assert.equal(env.KAFKA_TOPIC, "from-env");
  assert.equal(env.SCHEDULE, "*/5 * * * *");
  assert.equal(env.HTTP_PORT, "2");
});

Deno.test("every setting can be given as a flag named after it", () => {
  const flags = parseFlags([
    "--once",
    "--kafka-brokers",
    "k:1",
    "--schedule=*/2 * * * *",
    "--env-file",
    "x.env",
  ]);
  assert.equal(flags.once, true);
  assert.equal(flags.dryRun, false);
  assert.equal(flags.envFile, "x.env");
  assert.deepEqual(flags.overrides, { KAFKA_BROKERS: "k:1", SCHEDULE: "*/2 * * * *" });
});

Deno.test("an unknown flag is a configuration error", () => {
  assert.throws(() => parseFlags(["--nope"]), ConfigError);
});

/** [environment, expected one-line message]; each must be refused. */
const BAD: [Record<string, string>, string][] = [
  [{ SOURCE: "youtube" }, 'SOURCE: "youtube" is not allowed; expected one of twitch, simulated'],
  [
    { TWITCH_CLIENT_SECRET: "x" },
    "TWITCH_CLIENT_ID: is not set; set it to your Twitch app's client id, or use SOURCE=simulated",
  ],
  [
    { TWITCH_CLIENT_ID: "x" },
    "TWITCH_CLIENT_SECRET: is not set; set it to your Twitch app's client secret, or use SOURCE=simulated",
  ],
  [
    { ...twitch, TWITCH_CLIENT_ID: "has space" },
    "TWITCH_CLIENT_ID: is empty or contains spaces; expected the value from your app in the Twitch developer console",
  ],
  [
    { ...twitch, KAFKA_BROKERS: "localhost" },
    'KAFKA_BROKERS: "localhost" is not a broker address; expected host:port[,host:port...], e.g. localhost:9092',
  ],
  [
    { ...twitch, KAFKA_BROKERS: "h:70000" },
    'KAFKA_BROKERS: "h:70000" is not a broker address; expected host:port[,host:port...], e.g. localhost:9092',
  ],
  [
    { ...twitch, KAFKA_BROKERS: " , " },
    "KAFKA_BROKERS: is empty; expected host:port[,host:port...], e.g. localhost:9092",
  ],
  [
    { ...twitch, KAFKA_TOPIC: "bad topic" },
    'KAFKA_TOPIC: "bad topic" is not a valid topic name; expected 1-249 characters of letters, digits, ".", "_" or "-"',
  ],
  [
    { ...twitch, KAFKA_TOPIC: ".." },
    'KAFKA_TOPIC: ".." is not a valid topic name; expected 1-249 characters of letters, digits, ".", "_" or "-"',
  ],
  [
    { ...twitch, KAFKA_CLIENT_ID: "a b" },
    "KAFKA_CLIENT_ID: is empty or contains spaces; expected a client name without spaces",
  ],
  [
    { ...twitch, KAFKA_TOPIC_PARTITIONS: "0" },
    "KAFKA_TOPIC_PARTITIONS: 0 is out of range; expected an integer from 1 to 10000",
  ],
  [
    { ...twitch, KAFKA_TOPIC_PARTITIONS: "three" },
    'KAFKA_TOPIC_PARTITIONS: "three" is not a whole number; expected an integer from 1 to 10000',
  ],
  [
    { ...twitch, KAFKA_REPLICATION_FACTOR: "1.5" },
    'KAFKA_REPLICATION_FACTOR: "1.5" is not a whole number; expected an integer from 1 to 32',
  ],
  [
    { ...twitch, KAFKA_SASL_MECHANISM: "gssapi" },
    'KAFKA_SASL_MECHANISM: "gssapi" is not allowed; expected one of plain, scram-sha-256, scram-sha-512',
  ],
  [
    { ...twitch, KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_PASSWORD: "pw" },
    "KAFKA_SASL_USERNAME: is not set; KAFKA_SASL_MECHANISM needs a user name",
  ],
  [
    { ...twitch, KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u" },
    "KAFKA_SASL_PASSWORD: is not set; KAFKA_SASL_MECHANISM needs a password",
  ],
  [
    { ...twitch, KAFKA_SASL_PASSWORD: "pw" },
    "KAFKA_SASL_MECHANISM: is not set but a SASL user or password is; set it to plain, scram-sha-256 or scram-sha-512",
  ],
  [
    { ...twitch, KAFKA_SSL: "maybe" },
    'KAFKA_SSL: "maybe" is not a boolean; expected true or false',
  ],
  [
    { ...twitch, KAFKA_SSL: "false", KAFKA_SSL_CA_FILE: "/ca.pem" },
    "KAFKA_SSL: is false but TLS files are set; set KAFKA_SSL=true or unset the KAFKA_SSL_*_FILE variables",
  ],
  [
    { ...twitch, KAFKA_SSL_CERT_FILE: "/c.pem" },
    "KAFKA_SSL_KEY_FILE: is not set; a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE",
  ],
  [
    { ...twitch, SCHEDULE: "every minute" },
    'SCHEDULE: "every minute" has 2 fields; expected five: minute hour day-of-month month day-of-week, e.g. "* * * * *"',
  ],
  [
    { ...twitch, SCHEDULE: "61 * * * *" },
    'SCHEDULE: minute field "61" is out of range; expected 0-59',
  ],
  [
    { ...twitch, STREAM_LANGUAGES: "english" },
    'STREAM_LANGUAGES: "english" is not valid; expected ISO 639-1 codes such as en,de or other',
  ],
  [
    { ...twitch, STREAM_GAME_IDS: "abc" },
    'STREAM_GAME_IDS: "abc" is not valid; expected numeric game ids such as 509658',
  ],
  [
    { ...twitch, STREAM_USER_LOGINS: "no-dash" },
    'STREAM_USER_LOGINS: "no-dash" is not valid; expected Twitch logins (letters, digits, _; at most 25 characters)',
  ],
  [
    { ...twitch, STREAM_GAME_IDS: Array.from({ length: 101 }, (_, i) => i).join(",") },
    "STREAM_GAME_IDS: has 101 values; Helix accepts at most 100 per query",
  ],
  [
    { ...twitch, MAX_STREAMS: "-5" },
    "MAX_STREAMS: -5 is out of range; expected an integer from 1 to 10000000",
  ],
  [
    { ...twitch, SCAN_MODE: "fast" },
    'SCAN_MODE: "fast" is not allowed; expected one of auto, sequential, sharded',
  ],
  [
    { ...twitch, SCAN_CONCURRENCY: "0" },
    "SCAN_CONCURRENCY: 0 is out of range; expected an integer from 1 to 100",
  ],
  [
    { ...twitch, HELIX_TIMEOUT_MS: "10" },
    "HELIX_TIMEOUT_MS: 10 is out of range; expected an integer from 100 to 300000",
  ],
  [
    { ...twitch, LOG_LEVEL: "verbose" },
    'LOG_LEVEL: "verbose" is not allowed; expected one of debug, info, warning, error',
  ],
  [
    { ...twitch, LOG_FORMAT: "xml" },
    'LOG_FORMAT: "xml" is not allowed; expected one of json, pretty',
  ],
  [
    { ...twitch, HTTP_PORT: "65536" },
    "HTTP_PORT: 65536 is out of range; expected an integer from 0 to 65535",
  ],
  [
    { ...twitch, HTTP_HOST: "a b" },
    "HTTP_HOST: is empty or contains spaces; expected an address such as 0.0.0.0 or 127.0.0.1",
  ],
];

Deno.test("each bad value is refused with one line naming the variable and the expected form", () => {
  for (const [env, message] of BAD) {
    assert.throws(() => parseConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${message}: not a ConfigError`);
      assert.equal(error.message, message);
      assert.ok(!error.message.includes("\n"));
      assert.ok(!error.message.includes("s3cr3t-value"), "secret echoed");
      return true;
    });
  }
});
