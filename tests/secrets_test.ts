/**
 * The Twitch client secret and the SASL password never reach the service's
 * output: not its log (at the most verbose level too), not stdout, not its
 * HTTP endpoint, whichever way a run ends. twurple's HTTP errors carry the
 * token request's URL, whose query holds `client_secret`; that is the leak
 * these tests would catch first.
 */

import assert from "node:assert/strict";
import { uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { logLines, runService, startService } from "./support/service.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { freePort } from "../dev/ports.ts";

const TWITCH_SECRET = "zz-twitch-secret-9317";
const SASL_PASSWORD = "zz-sasl-pass-5521";
const USER = "datagen";

/** Fails when `text` holds either secret, or any `client_secret` at all (redacted or not). */
function assertNoSecret(what: string, text: string): void {
  for (const secret of [TWITCH_SECRET, SASL_PASSWORD, "client_secret"]) {
    assert.ok(!text.includes(secret), `${what} carries "${secret}":\n${text}`);
  }
}

/** The messages of the log lines at level ERROR. */
function errors(stderr: string): string[] {
  return logLines(stderr).filter((l) => l.level === "ERROR").map((l) => String(l.message));
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

Deno.test("no run of the service prints the Twitch client secret or the SASL password", async (t) => {
  await using broker = await useTestBroker({
    own: true,
    sasl: { users: [{ username: USER, password: SASL_PASSWORD }] },
  });
  await using sim = await startSimulator({ streams: 300, clientSecret: TWITCH_SECRET });
  const env = (extra: Record<string, string> = {}) => ({
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    TWURPLE_MOCK_API_PORT: String(sim.port),
    TWITCH_CLIENT_ID: sim.clientId,
    TWITCH_CLIENT_SECRET: TWITCH_SECRET,
    KAFKA_BROKERS: broker.local!.saslBootstrap!,
    KAFKA_TOPIC: uniqueTopic("secrets"),
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: SASL_PASSWORD,
    LOG_FORMAT: "json",
    LOG_LEVEL: "debug",
    ...extra,
  });

  await t.step("a successful --once at LOG_LEVEL=debug", async () => {
    const result = await runService(["--once"], env());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      logLines(result.stderr).filter((l) => String(l.message).startsWith("Scan ok: 300 streams"))
        .length,
      1,
      result.stderr,
    );
    assertNoSecret("stdout", result.stdout);
    assertNoSecret("stderr", result.stderr);
  });

  await t.step("--once with a client secret Twitch refuses exits 1 with one line", async () => {
    const result = await runService(["--once"], env({ TWITCH_CLIENT_SECRET: `${TWITCH_SECRET}x` }));
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(errors(result.stderr), [
      'Scan failed: "Twitch refused the app credentials (403 invalid client secret); check TWITCH_CLIENT_SECRET"',
    ]);
    assertNoSecret("stdout", result.stdout);
    assertNoSecret("stderr", result.stderr);
  });

  await t.step("--once when Twitch cannot be reached exits 1 with one line", async () => {
    const closed = freePort();
    const result = await runService(["--once"], env({ TWURPLE_MOCK_API_PORT: String(closed) }));
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(errors(result.stderr), [
      'Scan failed: "Helix request failed: fetch failed (client error (Connect): tcp connect error: Connection refused (os error 111))"',
    ]);
    assertNoSecret("stdout", result.stdout);
    assertNoSecret("stderr", result.stderr);
  });

  await t.step("--once with a SASL password the broker refuses exits 1 with one line", async () => {
    const result = await runService(["--once"], env({ KAFKA_SASL_PASSWORD: `${SASL_PASSWORD}x` }));
    assert.equal(result.code, 1, result.stderr);
    assert.equal(errors(result.stderr).length, 1, result.stderr);
    assert.match(errors(result.stderr)[0], /check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/);
    assertNoSecret("stdout", result.stdout);
    assertNoSecret("stderr", result.stderr);
  });

  await t.step("--dry-run at LOG_LEVEL=debug", async () => {
    const result = await runService(["--dry-run"], env());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split("\n").length, 300);
    assertNoSecret("stdout", result.stdout);
    assertNoSecret("stderr", result.stderr);
  });

  await t.step("--help", async () => {
    const result = await runService(["--help"], env());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /TWITCH_CLIENT_SECRET/);
    assertNoSecret("stdout", result.stdout);
    assertNoSecret("stderr", result.stderr);
  });

  await t.step("a bad setting next to the secrets", async () => {
    const result = await runService(["--once"], env({ KAFKA_SASL_MECHANISM: "scram" }));
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'error: KAFKA_SASL_MECHANISM: "scram" is not allowed; expected one of plain, scram-sha-256, scram-sha-512\n',
    );
    assertNoSecret("stdout", result.stdout);
  });

  await t.step("a client secret with a space in it", async () => {
    const result = await runService(
      ["--once"],
      env({ TWITCH_CLIENT_SECRET: "zz-twitch-secret 9317" }),
    );
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      "error: TWITCH_CLIENT_SECRET: is empty or contains spaces; expected the value from your app in the Twitch developer console\n",
    );
    assert.ok(!result.stderr.includes("zz-twitch"));
  });

  await t.step("a running service's /metrics and /readyz, after a scan", async () => {
    const port = freePort();
    await using service = startService(
      [],
      env({ HTTP_PORT: String(port), HTTP_HOST: "127.0.0.1" }),
    );
    await service.waitForLog((l) => String(l.message).startsWith("Scan ok"));
    const ready = await get(port, "/readyz");
    const metrics = await get(port, "/metrics");
    const stopped = await service.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(ready, { status: 200, body: "leader\n" }); // HA=on: the one instance leads
    assert.match(metrics.body, /^datagen_scans_total\{result="ok"\} 1$/m);
    assertNoSecret("/readyz", ready.body);
    assertNoSecret("/metrics", metrics.body);
    assertNoSecret("stdout", stopped.stdout);
    assertNoSecret("stderr", stopped.stderr);
  });

  await t.step("a running service whose scans Twitch refuses", async () => {
    const port = freePort();
    await using service = startService(
      [],
      env({
        HTTP_PORT: String(port),
        HTTP_HOST: "127.0.0.1",
        TWITCH_CLIENT_SECRET: `${TWITCH_SECRET}x`,
      }),
    );
    await service.waitForLog((l) => String(l.message).startsWith("Scan failed"));
    const ready = await get(port, "/readyz");
    const metrics = await get(port, "/metrics");
    const stopped = await service.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(ready, { status: 503, body: "leader; no successful scan yet\n" });
    assert.match(metrics.body, /^datagen_scans_total\{result="failed"\} 1$/m);
    assertNoSecret("/readyz", ready.body);
    assertNoSecret("/metrics", metrics.body);
    assertNoSecret("stderr", stopped.stderr);
  });

  await t.step("a running service the broker refuses to log in", async () => {
    const port = freePort();
    await using service = startService(
      [],
      env({
        HTTP_PORT: String(port),
        HTTP_HOST: "127.0.0.1",
        KAFKA_SASL_PASSWORD: `${SASL_PASSWORD}x`,
      }),
    );
    await service.waitForLog((l) => String(l.message).startsWith("Kafka not usable yet"));
    const ready = await get(port, "/readyz");
    const metrics = await get(port, "/metrics");
    const stopped = await service.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(ready, { status: 503, body: "Kafka broker unreachable\n" });
    assert.match(metrics.body, /^datagen_kafka_up 0$/m);
    assertNoSecret("/readyz", ready.body);
    assertNoSecret("/metrics", metrics.body);
    assertNoSecret("stderr", stopped.stderr);
  });
});
