import assert from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { parseSimOptions } from "./simulator.ts";
import { defaultSimulatorOptions } from "../sim/options.ts";

Deno.test("no SIM_ variables give the defaults", () => {
  assert.deepEqual(parseSimOptions({}), defaultSimulatorOptions());
});

Deno.test("the defaults are Twitch's limits and a mid-sized static world", () => {
  const d = defaultSimulatorOptions();
  assert.deepEqual(
    [d.streams, d.seed, d.rateLimit, d.latencyMs, d.faultRate, d.churn, d.port, d.expiredStreams],
    [5000, 1, 800, 0, 0, 0, 0, 0],
  );
  assert.equal(d.failAfter, undefined);
  assert.equal(d.clientId, "datagen-sim-client");
  assert.equal(d.clientSecret, "datagen-sim-secret");
});

Deno.test("every SIM_ variable is read", () => {
  const options = parseSimOptions({
    SIM_STREAMS: "100000",
    SIM_SEED: "42",
    SIM_LATENCY_MS: "25",
    SIM_RATE_LIMIT: "1200",
    SIM_FAULT_RATE: "0.05",
    SIM_CHURN: "2.5",
    SIM_RESTART_RATE: "0.5",
    SIM_PORT: "8090",
    SIM_EXPIRED_STREAMS: "12",
    SIM_UNLISTED_LANGUAGES: "20",
    SIM_FAIL_AFTER: "300",
    SIM_TOKEN_TTL: "120",
    SIM_HOSTILE_TITLES: "1",
    SIM_CACHE_LAG_S: "30",
    SIM_ONLINE_LAG_S: "90",
    SIM_CURSOR_LOOP: "true",
    SIM_EMPTY_PAGES: "0.5",
    SIM_BAD_CURSOR_RATE: "0.1",
    SIM_REFILL_PER_MIN: "600",
  });
  assert.deepEqual(options, {
    ...defaultSimulatorOptions(),
    streams: 100_000,
    seed: 42,
    latencyMs: 25,
    rateLimit: 1200,
    faultRate: 0.05,
    churn: 2.5,
    restartRate: 0.5,
    port: 8090,
    expiredStreams: 12,
    unlistedStreams: 20,
    failAfter: 300,
    tokenTtlSeconds: 120,
    hostileTitles: true,
    cacheLagSeconds: 30,
    onlineLagSeconds: 90,
    cursorLoop: true,
    emptyPageRate: 0.5,
    badCursorRate: 0.1,
    refillPerMinute: 600,
  });
});

Deno.test("SIM_REALISTIC turns on every Helix quirk, and a quirk set on its own wins", () => {
  assert.deepEqual(parseSimOptions({ SIM_REALISTIC: "1", SIM_CACHE_LAG_S: "0" }), {
    ...defaultSimulatorOptions(),
    cacheLagSeconds: 0,
    onlineLagSeconds: 60,
    cursorLoop: true,
    emptyPageRate: 0.2,
    badCursorRate: 0.01,
    refillPerMinute: 600,
  });
});

Deno.test("empty variables count as unset", () => {
  assert.deepEqual(parseSimOptions({ SIM_STREAMS: "", SIM_CHURN: " " }), defaultSimulatorOptions());
});

Deno.test("a bad value names its variable and the expected form", () => {
  const cases: [Record<string, string>, string][] = [
    [
      { SIM_STREAMS: "many" },
      'SIM_STREAMS: "many" is not a whole number; expected an integer from 0 to 1000000',
    ],
    [
      { SIM_STREAMS: "-1" },
      "SIM_STREAMS: -1 is out of range; expected an integer from 0 to 1000000",
    ],
    [
      { SIM_SEED: "1.5" },
      'SIM_SEED: "1.5" is not a whole number; expected an integer from 0 to 4294967295',
    ],
    [
      { SIM_RATE_LIMIT: "0" },
      "SIM_RATE_LIMIT: 0 is out of range; expected points per minute from 1 to 1000000",
    ],
    [
      { SIM_FAULT_RATE: "2" },
      "SIM_FAULT_RATE: 2 is out of range; expected a fraction from 0 to 1, e.g. 0.05",
    ],
    [
      { SIM_FAULT_RATE: "5%" },
      'SIM_FAULT_RATE: "5%" is not a number; expected a fraction from 0 to 1, e.g. 0.05',
    ],
    [
      { SIM_CHURN: "fast" },
      'SIM_CHURN: "fast" is not a number; expected a number from 0 (static) to 10000, e.g. 1',
    ],
    [
      { SIM_PORT: "70000" },
      "SIM_PORT: 70000 is out of range; expected a port from 0 (any free port) to 65535",
    ],
    [
      { SIM_LATENCY_MS: "1s" },
      'SIM_LATENCY_MS: "1s" is not a whole number; expected milliseconds from 0 to 60000',
    ],
    [
      { SIM_FAIL_AFTER: "-3" },
      "SIM_FAIL_AFTER: -3 is out of range; expected an integer of 0 or more, or unset for never",
    ],
    [
      { SIM_TOKEN_TTL: "0" },
      "SIM_TOKEN_TTL: 0 is out of range; expected seconds from 1 to 315360000",
    ],
    [
      { SIM_STREAMS: "10", SIM_EXPIRED_STREAMS: "11" },
      "SIM_EXPIRED_STREAMS: 11 is more than the 10 streams; expected at most SIM_STREAMS",
    ],
    [
      { SIM_STREAMS: "10", SIM_EXPIRED_STREAMS: "4", SIM_UNLISTED_LANGUAGES: "7" },
      "SIM_UNLISTED_LANGUAGES: 7 and 4 expired are more than the 10 streams; expected at most SIM_STREAMS together",
    ],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => parseSimOptions(env), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, message);
      assert.equal(e.setting, Object.keys(env).at(-1));
      return true;
    });
  }
});
