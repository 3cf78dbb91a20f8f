/**
 * The simulator's settings and their `SIM_*` environment variables.
 *
 * @module
 */

import { ConfigError } from "../config/errors.ts";

/** Settings of a simulator; every field has a default. */
export interface SimulatorOptions {
  /** Streams live at the start (`SIM_STREAMS`, default 5000). */
  streams: number;
  /** Seed of all simulated data (`SIM_SEED`, default 1). */
  seed: number;
  /** Added latency per request in milliseconds (`SIM_LATENCY_MS`, default 0). */
  latencyMs: number;
  /** Rate limit in points per minute per client id (`SIM_RATE_LIMIT`, default 800). */
  rateLimit: number;
  /** Fraction of Helix requests answered with a 5xx, 0..1 (`SIM_FAULT_RATE`, default 0). */
  faultRate: number;
  /** How fast viewer counts and streams change; 0 = static (`SIM_CHURN`, default 0). */
  churn: number;
  /**
   * Under churn, the share of ending streams whose channel goes live again a
   * few minutes later under a new stream id (`SIM_RESTART_RATE`, default 0.3).
   */
  restartRate: number;
  /** Port to listen on; 0 = any free port (`SIM_PORT`, default 0). */
  port: number;
  /** Address to listen on (default 127.0.0.1, and ::1 too when available). */
  hostname: string;
  /** Streams that started more than 48 hours ago, still listed (`SIM_EXPIRED_STREAMS`, default 0). */
  expiredStreams: number;
  /** Streams whose language code is outside ISO 639-1 and Twitch's own (`SIM_UNLISTED_LANGUAGES`, default 0). */
  unlistedStreams: number;
  /** After this many successful Get Streams answers, every further one is a 503 (`SIM_FAIL_AFTER`). */
  failAfter?: number;
  /** Lifetime of app access tokens in seconds (`SIM_TOKEN_TTL`, default 5184000 = 60 days). */
  tokenTtlSeconds: number;
  /** The client id the simulator accepts. */
  clientId: string;
  /** The client secret the simulator accepts. */
  clientSecret: string;
  /** The clock, in milliseconds since the epoch (default `Date.now`; tests pass their own). */
  clock?: () => number;
}

/** The well-known credentials of the simulator: they guard nothing. */
export const DEFAULT_CLIENT_ID = "datagen-sim-client";
/** The well-known credentials of the simulator: they guard nothing. */
export const DEFAULT_CLIENT_SECRET = "datagen-sim-secret";

/** The defaults of every setting. */
export function defaultSimulatorOptions(): SimulatorOptions {
  return {
    streams: 5000,
    seed: 1,
    latencyMs: 0,
    rateLimit: 800,
    faultRate: 0,
    churn: 0,
    restartRate: 0.3,
    port: 0,
    hostname: "127.0.0.1",
    expiredStreams: 0,
    unlistedStreams: 0,
    failAfter: undefined,
    tokenTtlSeconds: 5_184_000,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  };
}

/** Most streams a simulator holds: a busy day on Twitch is about 110,000. */
export const MAX_STREAMS = 1_000_000;

/**
 * Reads the `SIM_*` variables over the defaults (unset or empty means the default).
 * Throws {@link ConfigError} naming the variable for a bad value.
 */
export function parseSimOptions(env: Record<string, string | undefined>): SimulatorOptions {
  const d = defaultSimulatorOptions();
  const streams = readInteger(
    env,
    "SIM_STREAMS",
    [0, MAX_STREAMS],
    `an integer from 0 to ${MAX_STREAMS}`,
  );
  const options: SimulatorOptions = {
    ...d,
    streams: streams ?? d.streams,
    seed: readInteger(env, "SIM_SEED", [0, 4_294_967_295], "an integer from 0 to 4294967295") ??
      d.seed,
    latencyMs: readInteger(env, "SIM_LATENCY_MS", [0, 60_000], "milliseconds from 0 to 60000") ??
      d.latencyMs,
    rateLimit:
      readInteger(env, "SIM_RATE_LIMIT", [1, 1_000_000], "points per minute from 1 to 1000000") ??
        d.rateLimit,
    faultRate: readNumber(env, "SIM_FAULT_RATE", [0, 1], "a fraction from 0 to 1, e.g. 0.05") ??
      d.faultRate,
    churn: readNumber(env, "SIM_CHURN", [0, 10_000], "a number from 0 (static) to 10000, e.g. 1") ??
      d.churn,
    restartRate: readNumber(env, "SIM_RESTART_RATE", [0, 1], "a fraction from 0 to 1, e.g. 0.3") ??
      d.restartRate,
    port: readInteger(env, "SIM_PORT", [0, 65_535], "a port from 0 (any free port) to 65535") ??
      d.port,
    expiredStreams: readInteger(
      env,
      "SIM_EXPIRED_STREAMS",
      [0, MAX_STREAMS],
      "an integer from 0 to SIM_STREAMS",
    ) ??
      d.expiredStreams,
    unlistedStreams: readInteger(
      env,
      "SIM_UNLISTED_LANGUAGES",
      [0, MAX_STREAMS],
      "an integer from 0 to SIM_STREAMS",
    ) ?? d.unlistedStreams,
    failAfter: readInteger(
      env,
      "SIM_FAIL_AFTER",
      [0, Number.MAX_SAFE_INTEGER],
      "an integer of 0 or more, or unset for never",
    ),
    tokenTtlSeconds:
      readInteger(env, "SIM_TOKEN_TTL", [1, 315_360_000], "seconds from 1 to 315360000") ??
        d.tokenTtlSeconds,
  };
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

function readInteger(
  env: Record<string, string | undefined>,
  name: string,
  [min, max]: [number, number],
  form: string,
): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (!/^[+-]?[0-9]+$/.test(raw)) {
    throw new ConfigError(name, `"${raw}" is not an integer; expected ${form}`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `${raw} is out of range; expected ${form}`);
  }
  return value;
}

function readNumber(
  env: Record<string, string | undefined>,
  name: string,
  [min, max]: [number, number],
  form: string,
): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  const value = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value)) {
    throw new ConfigError(name, `"${raw}" is not a number; expected ${form}`);
  }
  if (value < min || value > max) {
    throw new ConfigError(name, `${raw} is out of range; expected ${form}`);
  }
  return value;
}
