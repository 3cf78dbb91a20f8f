/**
 * The service against secured Kafka listeners: SASL (PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512) and TLS with a private CA. Every stream lands when the
 * credentials are right; when they are wrong, `--once` gives up quickly with
 * one line that names the setting to fix.
 */

import assert from "node:assert/strict";
import { readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, runOnceWithin } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";

const USER = "datagen";
const PASSWORD = "zz-sasl-pass-5521";
const STREAMS = 500;
const SEED = 23;

/** The ids the built-in simulator serves with {@link STREAMS} and {@link SEED}. */
async function expectedIds(): Promise<Set<string>> {
  await using sim = await startSimulator({ streams: STREAMS, seed: SEED });
  return new Set(sim.liveIds());
}

function simulated(brokers: string, extra: Record<string, string>): Record<string, string> {
  return {
    SOURCE: "simulated",
    SIM_STREAMS: String(STREAMS),
    SIM_SEED: String(SEED),
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: uniqueTopic("secured"),
    ...extra,
  };
}

/** The `error` field of every log line at level ERROR. */
function errorLines(stderr: string): unknown[] {
  return logLines(stderr).filter((l) => l.level === "ERROR").map((l) => l.error);
}

/** Fails on anything that looks like a stack trace in the output. */
function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m);
  assert.ok(logLines(stderr).every((l) => !("stack" in l)), stderr);
}

const MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"];

/**
 * kcat's login on the SASL listener. Always PLAIN: librdkafka before 2.6.1
 * builds SCRAM proofs that Kafka 4 rejects (confluentinc/librdkafka#4895),
 * and distributions still ship such versions.
 */
const KCAT_SASL = {
  "security.protocol": "sasl_plaintext",
  "sasl.mechanisms": "PLAIN",
  "sasl.username": USER,
  "sasl.password": PASSWORD,
};

/** How the broker and kafkajs word a refused login, by mechanism. */
const REFUSALS: Record<string, string> = {
  "plain": "SASL PLAIN authentication failed: Authentication failed: Invalid username or password",
  "scram-sha-256":
    "SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
  "scram-sha-512":
    "SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
};

Deno.test("through a SASL listener, --once produces every stream with each mechanism and fails fast on a wrong password", async (t) => {
  await using broker = await useTestBroker({
    own: true,
    sasl: { users: [{ username: USER, password: PASSWORD }] },
  });
  const bootstrap = broker.local!.saslBootstrap!;
  const expected = await expectedIds();

  for (const mechanism of MECHANISMS) {
    await t.step(`${mechanism}: exit 0 and one record per stream`, async () => {
      const env = simulated(bootstrap, {
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: USER,
        KAFKA_SASL_PASSWORD: PASSWORD,
      });
      const result = await runOnceWithin(env);
      console.log(`SASL ${mechanism}: --once exited ${result.code} after ${result.ms} ms`);
      assert.equal(result.code, 0, result.stderr);
      const records = await readTopic(bootstrap, env.KAFKA_TOPIC, { config: KCAT_SASL });
      assert.equal(records.length, STREAMS);
      assert.deepEqual(new Set(records.map((r) => r.key)), expected);
    });
  }

  for (const mechanism of MECHANISMS) {
    await t.step(
      `${mechanism}: a wrong password exits 1 with one line naming the SASL settings`,
      async () => {
        const wrong = "zz-wrong-pass-3310";
        const result = await runOnceWithin(simulated(bootstrap, {
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: USER,
          KAFKA_SASL_PASSWORD: wrong,
        }));
        console.log(
          `SASL ${mechanism}, wrong password: --once exited ${result.code} after ${result.ms} ms`,
        );
        assert.equal(result.code, 1, result.stderr);
        assert.deepEqual(errorLines(result.stderr), [
          `the broker refused the SASL login (${
            REFUSALS[mechanism]
          }); check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM`,
        ]);
        assertNoStack(result.stderr);
        assert.ok(!result.stderr.includes(wrong), result.stderr);
        assert.ok(!result.stdout.includes(wrong), result.stdout);
      },
    );
  }
});

Deno.test("through an SSL listener, --once produces every stream when it trusts KAFKA_SSL_CA_FILE and fails fast when it does not", async (t) => {
  await using broker = await useTestBroker({ own: true, ssl: true });
  const bootstrap = broker.local!.sslBootstrap!;
  const caFile = broker.local!.caFile!;

  await t.step("with the CA: exit 0 and one record per stream", async () => {
    const expected = await expectedIds();
    const env = simulated(bootstrap, { KAFKA_SSL: "true", KAFKA_SSL_CA_FILE: caFile });
    const result = await runOnceWithin(env);
    console.log(`SSL with the CA: --once exited ${result.code} after ${result.ms} ms`);
    assert.equal(result.code, 0, result.stderr);
    const records = await readTopic(bootstrap, env.KAFKA_TOPIC, {
      config: { "security.protocol": "ssl", "ssl.ca.location": caFile },
    });
    assert.equal(records.length, STREAMS);
    assert.deepEqual(new Set(records.map((r) => r.key)), expected);
  });

  await t.step("without the CA: exit 1 with one line naming KAFKA_SSL_CA_FILE", async () => {
    const result = await runOnceWithin(simulated(bootstrap, { KAFKA_SSL: "true" }));
    console.log(`SSL without the CA: --once exited ${result.code} after ${result.ms} ms`);
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(errorLines(result.stderr), [
      "the TLS handshake with the broker failed (Connection error: self-signed certificate in certificate chain); check KAFKA_SSL and KAFKA_SSL_CA_FILE",
    ]);
    assertNoStack(result.stderr);
  });
});
