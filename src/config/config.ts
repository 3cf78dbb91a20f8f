/**
 * The service's configuration: environment variables (also read from a
 * `.env` file), overridden by command-line flags, validated in one place at
 * start-up. Everything here is pure: the caller passes the environment, the
 * arguments and the `.env` text in. Each value's default and parser is in the
 * settings table (`settings.ts`); this module adds the rules that tie
 * settings together.
 *
 * @module
 */

import { parseEnv } from "node:util";
import { ConfigError } from "./errors.ts";
import { type CronSchedule, parseCron } from "./cron.ts";
import {
  type LogFormat,
  type LogLevel,
  readSettings,
  type SaslMechanism,
  type ScanMode,
  type SettingName,
  settingsOf,
  type Source,
} from "./settings.ts";
import { parseSimOptions } from "./simulator.ts";
import type { SimulatorOptions } from "../sim/options.ts";
import { type EventSubConfig, parseEventSubConfig } from "./eventsub.ts";

/** Filters that narrow the Helix query. */
export interface StreamFilters {
  languages: string[];
  gameIds: string[];
  userLogins: string[];
  /** Stop after the top N streams (by viewers). */
  maxStreams?: number;
}

/** Everything the service needs to run, validated. */
export interface Config {
  source: Source;
  twitch: { clientId: string; clientSecret: string };
  kafka: {
    brokers: string[];
    topic: string;
    clientId: string;
    partitions: number;
    /** Unset: min(3, number of brokers). */
    replicationFactor?: number;
    sasl?: { mechanism: SaslMechanism; username: string; password: string };
    ssl?: { caFile?: string; certFile?: string; keyFile?: string };
    /** How long the start-up rebuild may read the topic before it gives up. */
    rebuildTimeoutMs: number;
  };
  /** Leader election and transactions; `null` with `HA=off`. */
  ha: { groupId: string; sessionTimeoutMs: number } | null;
  schedule: CronSchedule;
  filters: StreamFilters;
  scan: {
    mode: ScanMode;
    concurrency: number;
    requestTimeoutMs: number;
    /** Milliseconds between audit scans that page unsplit; 0 = never. */
    auditIntervalMs: number;
    /** A missing stream younger than this that a look-up calls gone is held; 0 = ended at once. */
    cacheHorizonMs: number;
  };
  log: { level: LogLevel; format: LogFormat };
  http: { host: string; port: number };
  /** Simulator settings, when `source` is `simulated`. */
  sim?: Partial<SimulatorOptions>;
  /** Real-time following of a watchlist over EventSub. */
  eventsub: EventSubConfig;
  once: boolean;
  dryRun: boolean;
  /** Whether `--once` or `--dry-run` scans as an audit (`--audit`). */
  audit: boolean;
}

/**
 * Merges the sources of settings: the `.env` file's values, then the process
 * environment (which wins over the file, as with `--env-file` in Deno and
 * Node), then flags.
 */
export function mergeEnvironment(
  env: Record<string, string | undefined>,
  options: { envFileText?: string; overrides?: Record<string, string> } = {},
): Record<string, string | undefined> {
  const fromFile = options.envFileText === undefined ? {} : parseEnv(options.envFileText);
  return { ...fromFile, ...env, ...options.overrides };
}

/** The service's settings that are read whatever the source (the credentials only for Twitch). */
type ServiceSetting = Exclude<
  SettingName,
  `SIM_${string}` | "SOURCE" | "TWITCH_CLIENT_ID" | "TWITCH_CLIENT_SECRET"
>;
const SERVICE_SETTINGS = settingsOf("service").filter((name) =>
  !["SOURCE", "TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET"].includes(name)
) as ServiceSetting[];

/** Held against Twitch, whose cache nodes learn of a new stream minutes apart (see settle.ts). */
const TWITCH_CACHE_HORIZON_MS = 10 * 60_000;

/**
 * `HELIX_CACHE_HORIZON` when unset: Twitch's, and the simulator's only when its cache lags
 * (a simulator without lag never calls a live stream gone, so holding one only adds staleness).
 */
function cacheHorizon(sim: Partial<SimulatorOptions> | undefined): number {
  if (sim === undefined) return TWITCH_CACHE_HORIZON_MS;
  return (sim.cacheLagSeconds ?? 0) > 0 ? TWITCH_CACHE_HORIZON_MS : 0;
}

/**
 * Validates the merged environment into a {@link Config}.
 *
 * @throws {ConfigError} naming the first variable that cannot be used.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  options: { once?: boolean; dryRun?: boolean; audit?: boolean; stderrIsTerminal?: boolean } = {},
): Config {
  const { SOURCE: source } = readSettings(env, ["SOURCE"]);
  const twitch = source === "twitch" ? twitchCredentials(env) : { clientId: "", clientSecret: "" };
  const v = readSettings(env, SERVICE_SETTINGS);
  const sim = source === "simulated" ? parseSimOptions(env) : undefined;
  if (v.SCAN_MODE === "sharded") requireShardable(v.STREAM_USER_LOGINS, v.MAX_STREAMS);
  return {
    source,
    twitch,
    kafka: {
      brokers: v.KAFKA_BROKERS,
      topic: v.KAFKA_TOPIC,
      clientId: v.KAFKA_CLIENT_ID,
      partitions: v.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: v.KAFKA_REPLICATION_FACTOR,
      sasl: saslSettings(v.KAFKA_SASL_MECHANISM, v.KAFKA_SASL_USERNAME, v.KAFKA_SASL_PASSWORD),
      ssl: tlsSettings(
        v.KAFKA_SSL,
        v.KAFKA_SSL_CA_FILE,
        v.KAFKA_SSL_CERT_FILE,
        v.KAFKA_SSL_KEY_FILE,
      ),
      rebuildTimeoutMs: v.KAFKA_REBUILD_TIMEOUT_MS,
    },
    ha: v.HA === "off" ? null : {
      groupId: v.KAFKA_LEADER_GROUP ?? `twitch-datagen.${v.KAFKA_TOPIC}.leader`,
      sessionTimeoutMs: v.KAFKA_SESSION_TIMEOUT_MS,
    },
    schedule: schedule(v.SCHEDULE),
    filters: {
      languages: v.STREAM_LANGUAGES ?? [],
      gameIds: v.STREAM_GAME_IDS ?? [],
      userLogins: v.STREAM_USER_LOGINS ?? [],
      maxStreams: v.MAX_STREAMS,
    },
    scan: {
      mode: v.SCAN_MODE,
      concurrency: v.SCAN_CONCURRENCY,
      requestTimeoutMs: v.HELIX_TIMEOUT_MS,
      auditIntervalMs: v.SCAN_AUDIT_INTERVAL,
      cacheHorizonMs: v.HELIX_CACHE_HORIZON ?? cacheHorizon(sim),
    },
    log: {
      level: v.LOG_LEVEL,
      format: v.LOG_FORMAT ?? (options.stderrIsTerminal ? "pretty" : "json"),
    },
    http: { host: v.HTTP_HOST, port: v.HTTP_PORT },
    sim,
    eventsub: parseEventSubConfig(env, source),
    once: options.once ?? false,
    dryRun: options.dryRun ?? false,
    audit: options.audit ?? false,
  };
}

/**
 * The operations endpoint's address alone, for `--healthcheck`, which must
 * work with nothing but `HTTP_HOST`/`HTTP_PORT` set (a container's probe).
 */
export function parseHttpSettings(env: Record<string, string | undefined>): Config["http"] {
  const v = readSettings(env, ["HTTP_HOST", "HTTP_PORT"]);
  return { host: v.HTTP_HOST, port: v.HTTP_PORT };
}

function twitchCredentials(env: Record<string, string | undefined>): Config["twitch"] {
  const v = readSettings(env, ["TWITCH_CLIENT_ID", "TWITCH_CLIENT_SECRET"]);
  if (v.TWITCH_CLIENT_ID === undefined) {
    throw new ConfigError(
      "TWITCH_CLIENT_ID",
      "is not set; set it to your Twitch app's client id, or use SOURCE=simulated",
    );
  }
  if (v.TWITCH_CLIENT_SECRET === undefined) {
    throw new ConfigError(
      "TWITCH_CLIENT_SECRET",
      "is not set; set it to your Twitch app's client secret, or use SOURCE=simulated",
    );
  }
  return { clientId: v.TWITCH_CLIENT_ID, clientSecret: v.TWITCH_CLIENT_SECRET };
}

function saslSettings(
  mechanism: SaslMechanism | undefined,
  username: string | undefined,
  password: string | undefined,
): Config["kafka"]["sasl"] {
  if (mechanism === undefined) {
    if (username === undefined && password === undefined) return undefined;
    throw new ConfigError(
      "KAFKA_SASL_MECHANISM",
      "is not set but a SASL user or password is; set it to plain, scram-sha-256 or scram-sha-512",
    );
  }
  if (username === undefined) {
    throw new ConfigError(
      "KAFKA_SASL_USERNAME",
      "is not set; KAFKA_SASL_MECHANISM needs a user name",
    );
  }
  if (password === undefined) {
    throw new ConfigError(
      "KAFKA_SASL_PASSWORD",
      "is not set; KAFKA_SASL_MECHANISM needs a password",
    );
  }
  return { mechanism, username, password };
}

function tlsSettings(
  enabled: boolean | undefined,
  caFile: string | undefined,
  certFile: string | undefined,
  keyFile: string | undefined,
): Config["kafka"]["ssl"] {
  const anyFile = caFile ?? certFile ?? keyFile;
  if (anyFile !== undefined && enabled === false) {
    throw new ConfigError(
      "KAFKA_SSL",
      "is false but TLS files are set; set KAFKA_SSL=true or unset the KAFKA_SSL_*_FILE variables",
    );
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      certFile === undefined ? "KAFKA_SSL_CERT_FILE" : "KAFKA_SSL_KEY_FILE",
      "is not set; a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE",
    );
  }
  return enabled === true || anyFile !== undefined ? { caFile, certFile, keyFile } : undefined;
}

/** `SCAN_MODE=sharded` promises parallel queries: refuse the filters that allow only one. */
function requireShardable(userLogins: string[] | undefined, maxStreams: number | undefined): void {
  const blocker = userLogins !== undefined
    ? "STREAM_USER_LOGINS"
    : maxStreams !== undefined
    ? "MAX_STREAMS"
    : undefined;
  if (blocker === undefined) return;
  throw new ConfigError(
    "SCAN_MODE",
    `is sharded but ${blocker} is set, which one sequential query serves; set SCAN_MODE=auto or sequential, or unset ${blocker}`,
  );
}

function schedule(text: string): CronSchedule {
  try {
    return parseCron(text);
  } catch (error) {
    throw new ConfigError("SCHEDULE", (error as Error).message);
  }
}
