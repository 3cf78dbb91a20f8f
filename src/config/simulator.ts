/**
 * The simulator's `SIM_*` settings, read into its options: for
 * `SOURCE=simulated` and for `deno task sim`. The simulator itself takes
 * options only.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";
import { readSettings, type SettingName, settingsOf } from "./settings.ts";
import { defaultSimulatorOptions, REALISTIC, type SimulatorOptions } from "../sim/options.ts";

/**
 * Reads the `SIM_*` variables over the simulator's defaults (unset or empty means the default).
 *
 * @throws {ConfigError} naming the variable for a bad value.
 */
export function parseSimOptions(env: Record<string, string | undefined>): SimulatorOptions {
  const v = readSettings(env, settingsOf("sim") as SimSettingName[]);
  const options: SimulatorOptions = {
    ...defaultSimulatorOptions(),
    streams: v.SIM_STREAMS,
    seed: v.SIM_SEED,
    latencyMs: v.SIM_LATENCY_MS,
    rateLimit: v.SIM_RATE_LIMIT,
    faultRate: v.SIM_FAULT_RATE,
    churn: v.SIM_CHURN,
    restartRate: v.SIM_RESTART_RATE,
    port: v.SIM_PORT,
    expiredStreams: v.SIM_EXPIRED_STREAMS,
    unlistedStreams: v.SIM_UNLISTED_LANGUAGES,
    hostileTitles: v.SIM_HOSTILE_TITLES === 1,
    failAfter: v.SIM_FAIL_AFTER,
    tokenTtlSeconds: v.SIM_TOKEN_TTL,
    eventSubMaxCost: v.SIM_EVENTSUB_MAX_COST,
    cacheLagSeconds: v.SIM_CACHE_LAG_S,
    onlineLagSeconds: v.SIM_ONLINE_LAG_S,
    cursorLoop: v.SIM_CURSOR_LOOP ?? false,
    emptyPageRate: v.SIM_EMPTY_PAGES,
    badCursorRate: v.SIM_BAD_CURSOR_RATE,
    refillPerMinute: v.SIM_REFILL_PER_MIN,
  };
  if (v.SIM_REALISTIC) {
    // The preset fills in what was not set; a variable that was set wins.
    const given = (name: SimSettingName) => (env[name] ?? "").trim() !== "";
    const preset: [SimSettingName, keyof typeof REALISTIC][] = [
      ["SIM_CACHE_LAG_S", "cacheLagSeconds"],
      ["SIM_ONLINE_LAG_S", "onlineLagSeconds"],
      ["SIM_CURSOR_LOOP", "cursorLoop"],
      ["SIM_EMPTY_PAGES", "emptyPageRate"],
      ["SIM_BAD_CURSOR_RATE", "badCursorRate"],
      ["SIM_REFILL_PER_MIN", "refillPerMinute"],
    ];
    for (const [name, field] of preset) {
      if (!given(name)) Object.assign(options, { [field]: REALISTIC[field] });
    }
  }
  if (options.expiredStreams > options.streams) {
    throw new ConfigError(
      "SIM_EXPIRED_STREAMS",
      `${options.expiredStreams} is more than the ${options.streams} streams; expected at most SIM_STREAMS`,
    );
  }
  if (options.expiredStreams + options.unlistedStreams > options.streams) {
    throw new ConfigError(
      "SIM_UNLISTED_LANGUAGES",
      `${options.unlistedStreams} and ${options.expiredStreams} expired are more than the ${options.streams} streams; expected at most SIM_STREAMS together`,
    );
  }
  return options;
}

type SimSettingName = Extract<SettingName, `SIM_${string}`>;
