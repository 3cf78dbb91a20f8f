import assert from "node:assert/strict";
import { mergeEnvironment, parseConfig } from "./config.ts";
import { parseFlags } from "./flags.ts";
import { ConfigError } from "./errors.ts";
import { BAD_CONFIG, TWITCH, TWITCH_SECRET } from "./testdata/bad_config.ts";

const twitch = TWITCH;

Deno.test("defaults follow the contract", () => {
  const config = parseConfig(twitch);
  assert.equal(config.source, "twitch");
  assert.deepEqual(config.kafka.brokers, ["localhost:9092"]);
  assert.equal(config.kafka.topic, "twitch-streams");
  assert.equal(config.kafka.clientId, "twitch-datagen");
  assert.equal(config.kafka.partitions, 3);
  assert.equal(config.kafka.replicationFactor, undefined);
  assert.equal(config.kafka.rebuildTimeoutMs, 120_000);
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

Deno.test("each bad value is refused with one line naming the variable and the expected form", () => {
  for (const [env, message] of BAD_CONFIG) {
    assert.throws(() => parseConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${message}: not a ConfigError`);
      assert.equal(error.message, message);
      assert.ok(!error.message.includes("\n"));
      assert.ok(!error.message.includes(TWITCH_SECRET), "secret echoed");
      return true;
    });
  }
});

Deno.test("SCAN_AUDIT_INTERVAL defaults to an hour, takes s, m or h, and 0 turns audits off", () => {
  assert.equal(parseConfig(twitch).scan.auditIntervalMs, 3_600_000);
  assert.equal(parseConfig({ ...twitch, SCAN_AUDIT_INTERVAL: "0" }).scan.auditIntervalMs, 0);
  assert.equal(parseConfig({ ...twitch, SCAN_AUDIT_INTERVAL: "1m" }).scan.auditIntervalMs, 60_000);
  assert.equal(
    parseConfig({ ...twitch, SCAN_AUDIT_INTERVAL: "2h" }).scan.auditIntervalMs,
    7_200_000,
  );
  assert.throws(
    () => parseConfig({ ...twitch, SCAN_AUDIT_INTERVAL: "soon" }),
    new ConfigError(
      "SCAN_AUDIT_INTERVAL",
      '"soon" is not a duration; expected a whole number with s, m or h, such as 60m, or 0',
    ),
  );
  assert.throws(
    () => parseConfig({ ...twitch, SCAN_AUDIT_INTERVAL: "30s" }),
    new ConfigError("SCAN_AUDIT_INTERVAL", "30s is too short; expected at least 60s, or 0"),
  );
});

Deno.test("--audit is a flag of its own", () => {
  assert.equal(parseFlags(["--once", "--audit"]).audit, true);
  assert.equal(parseFlags(["--once"]).audit, false);
});

Deno.test("SCAN_MODE=auto pages sequentially where a filter needs it, sharded refuses it", () => {
  const logins = { ...twitch, STREAM_USER_LOGINS: "foo" };
  assert.equal(parseConfig({ ...logins, SCAN_MODE: "auto" }).scan.mode, "auto");
  assert.equal(parseConfig({ ...twitch, SCAN_MODE: "sharded" }).scan.mode, "sharded");
  assert.throws(() => parseConfig({ ...logins, SCAN_MODE: "sharded" }), {
    name: "ConfigError",
    message:
      "SCAN_MODE: is sharded but STREAM_USER_LOGINS is set, which one sequential query serves; set SCAN_MODE=auto or sequential, or unset STREAM_USER_LOGINS",
  });
  assert.throws(() => parseConfig({ ...twitch, MAX_STREAMS: "10", SCAN_MODE: "Sharded" }), {
    message:
      "SCAN_MODE: is sharded but MAX_STREAMS is set, which one sequential query serves; set SCAN_MODE=auto or sequential, or unset MAX_STREAMS",
  });
});

Deno.test("HA is on by default, with the group derived from the topic", () => {
  assert.deepEqual(parseConfig({ ...twitch, KAFKA_TOPIC: "live" }).ha, {
    groupId: "twitch-datagen.live.leader",
    sessionTimeoutMs: 10_000,
  });
  assert.deepEqual(
    parseConfig({ ...twitch, KAFKA_LEADER_GROUP: "mine", KAFKA_SESSION_TIMEOUT_MS: "6000" }).ha,
    { groupId: "mine", sessionTimeoutMs: 6000 },
  );
  assert.equal(parseConfig({ ...twitch, HA: "off" }).ha, null);
});

Deno.test("HA and the session timeout reject values the broker or the service cannot use", () => {
  assert.throws(
    () => parseConfig({ ...twitch, HA: "maybe" }),
    /^ConfigError: HA: "maybe" is not allowed; expected one of on, off$/,
  );
  assert.throws(
    () => parseConfig({ ...twitch, KAFKA_SESSION_TIMEOUT_MS: "1000" }),
    /KAFKA_SESSION_TIMEOUT_MS/,
  );
});

Deno.test("HELIX_CACHE_HORIZON holds young streams 10 minutes against Twitch, and a lagging simulator only", () => {
  assert.equal(parseConfig(twitch).scan.cacheHorizonMs, 600_000);
  assert.equal(parseConfig({ SOURCE: "simulated" }).scan.cacheHorizonMs, 0);
  assert.equal(
    parseConfig({ SOURCE: "simulated", SIM_CACHE_LAG_S: "300" }).scan.cacheHorizonMs,
    600_000,
  );
  assert.equal(
    parseConfig({ SOURCE: "simulated", SIM_REALISTIC: "1" }).scan.cacheHorizonMs,
    600_000,
  );
  assert.equal(parseConfig({ ...twitch, HELIX_CACHE_HORIZON: "0" }).scan.cacheHorizonMs, 0);
  assert.equal(parseConfig({ ...twitch, HELIX_CACHE_HORIZON: "5m" }).scan.cacheHorizonMs, 300_000);
  assert.throws(
    () => parseConfig({ ...twitch, HELIX_CACHE_HORIZON: "ten" }),
    /HELIX_CACHE_HORIZON/,
  );
});
