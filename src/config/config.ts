/**
 * The service's configuration: environment variables (also read from a
 * `.env` file), overridden by command-line flags, validated in one place at
 * start-up. Everything here is pure: the caller passes the environment, the
 * arguments and the `.env` text in.
 *
 * @module
 */

import { parseEnv } from "node:util";
import { ConfigError } from "./errors.ts";
import { type CronSchedule, parseCron } from "./cron.ts";
import {
  parseBoolean,
  parseBrokers,
  parseChoice,
  parseDuration,
  parseInteger,
  parseList,
  parseToken,
  parseTopic,
} from "./values.ts";
import { parseSimOptions, type SimulatorOptions } from "../sim/mod.ts";

/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** SASL mechanisms accepted by `KAFKA_SASL_MECHANISM`. */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
/** Scan strategies accepted by `SCAN_MODE`. */
export const SCAN_MODES = ["auto", "sequential", "sharded"] as const;

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
  source: "twitch" | "simulated";
  twitch: { clientId: string; clientSecret: string };
  kafka: {
    brokers: string[];
    topic: string;
    clientId: string;
    partitions: number;
    /** Unset: min(3, number of brokers). */
    replicationFactor?: number;
    sasl?: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string };
    ssl?: { caFile?: string; certFile?: string; keyFile?: string };
    /** How long the start-up rebuild may read the topic before it gives up. */
    rebuildTimeoutMs: number;
  };
  /** Leader election and transactions; `null` with `HA=off`. */
  ha: { groupId: string; sessionTimeoutMs: number } | null;
  schedule: CronSchedule;
  filters: StreamFilters;
  scan: {
    mode: (typeof SCAN_MODES)[number];
    concurrency: number;
    requestTimeoutMs: number;
    /** Milliseconds between audit scans that page unsplit; 0 = never. */
    auditIntervalMs: number;
  };
  log: { level: (typeof LOG_LEVELS)[number]; format: "json" | "pretty" };
  http: { host: string; port: number };
  /** Simulator settings, when `source` is `simulated`. */
  sim?: Partial<SimulatorOptions>;
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

/** Reads a variable, treating an empty value as unset. */
function get(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
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
  const opt = <T>(name: string, parse: (raw: string) => T): T | undefined => {
    const raw = get(env, name);
    return raw === undefined ? undefined : parse(raw);
  };
  const source = opt("SOURCE", (r) => parseChoice("SOURCE", r, ["twitch", "simulated"] as const)) ??
    "twitch";

  let twitch = { clientId: "", clientSecret: "" };
  if (source === "twitch") {
    const form = "the value from your app in the Twitch developer console";
    const clientId = opt("TWITCH_CLIENT_ID", (r) => parseToken("TWITCH_CLIENT_ID", r, form));
    const clientSecret = opt(
      "TWITCH_CLIENT_SECRET",
      (r) => parseToken("TWITCH_CLIENT_SECRET", r, form),
    );
    if (clientId === undefined) {
      throw new ConfigError(
        "TWITCH_CLIENT_ID",
        "is not set; set it to your Twitch app's client id, or use SOURCE=simulated",
      );
    }
    if (clientSecret === undefined) {
      throw new ConfigError(
        "TWITCH_CLIENT_SECRET",
        "is not set; set it to your Twitch app's client secret, or use SOURCE=simulated",
      );
    }
    twitch = { clientId, clientSecret };
  }

  const brokers = opt("KAFKA_BROKERS", (r) => parseBrokers("KAFKA_BROKERS", r)) ??
    ["localhost:9092"];
  const mechanism = opt(
    "KAFKA_SASL_MECHANISM",
    (r) => parseChoice("KAFKA_SASL_MECHANISM", r, SASL_MECHANISMS),
  );
  const username = get(env, "KAFKA_SASL_USERNAME");
  const password = get(env, "KAFKA_SASL_PASSWORD");
  let sasl: Config["kafka"]["sasl"];
  if (mechanism !== undefined) {
    if (username === undefined) {
      throw new ConfigError(
        "KAFKA_SASL_USERNAME",
        `is not set; KAFKA_SASL_MECHANISM needs a user name`,
      );
    }
    if (password === undefined) {
      throw new ConfigError(
        "KAFKA_SASL_PASSWORD",
        `is not set; KAFKA_SASL_MECHANISM needs a password`,
      );
    }
    sasl = { mechanism, username, password };
  } else if (username !== undefined || password !== undefined) {
    throw new ConfigError(
      "KAFKA_SASL_MECHANISM",
      "is not set but a SASL user or password is; set it to plain, scram-sha-256 or scram-sha-512",
    );
  }

  const sslFlag = opt("KAFKA_SSL", (r) => parseBoolean("KAFKA_SSL", r));
  const caFile = get(env, "KAFKA_SSL_CA_FILE");
  const certFile = get(env, "KAFKA_SSL_CERT_FILE");
  const keyFile = get(env, "KAFKA_SSL_KEY_FILE");
  const anyFile = caFile ?? certFile ?? keyFile;
  if (anyFile !== undefined && sslFlag === false) {
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
  const ssl = sslFlag === true || anyFile !== undefined ? { caFile, certFile, keyFile } : undefined;

  const languages = opt("STREAM_LANGUAGES", (r) =>
    parseList("STREAM_LANGUAGES", r, {
      pattern: /^([a-z]{2}|asl|zh-hk|other)$/,
      form: "ISO 639-1 codes such as en,de or other",
      max: 100,
      lowerCase: true,
    })) ?? [];
  const gameIds = opt(
    "STREAM_GAME_IDS",
    (r) =>
      parseList("STREAM_GAME_IDS", r, {
        pattern: /^\d+$/,
        form: "numeric game ids such as 509658",
        max: 100,
      }),
  ) ?? [];
  const userLogins = opt("STREAM_USER_LOGINS", (r) =>
    parseList("STREAM_USER_LOGINS", r, {
      pattern: /^[a-z0-9_]{1,25}$/,
      form: "Twitch logins (letters, digits, _; at most 25 characters)",
      max: 100,
      lowerCase: true,
    })) ?? [];

  const logFormat =
    opt("LOG_FORMAT", (r) => parseChoice("LOG_FORMAT", r, ["json", "pretty"] as const)) ??
      (options.stderrIsTerminal ? "pretty" : "json");
  const topic = opt("KAFKA_TOPIC", (r) => parseTopic("KAFKA_TOPIC", r)) ?? "twitch-streams";
  const haOn = opt("HA", (r) => parseChoice("HA", r, ["on", "off"] as const)) ?? "on";
  const ha = haOn === "off" ? null : {
    groupId: opt(
      "KAFKA_LEADER_GROUP",
      (r) => parseToken("KAFKA_LEADER_GROUP", r, "a group id without spaces"),
    ) ?? `twitch-datagen.${topic}.leader`,
    sessionTimeoutMs: opt(
      "KAFKA_SESSION_TIMEOUT_MS",
      // The broker's group.min.session.timeout.ms is 6000 by default.
      (r) => parseInteger("KAFKA_SESSION_TIMEOUT_MS", r, { min: 6000, max: 300_000 }),
    ) ?? 10_000,
  };
  const scheduleText = get(env, "SCHEDULE") ?? "* * * * *";
  let schedule: CronSchedule;
  try {
    schedule = parseCron(scheduleText);
  } catch (error) {
    throw new ConfigError("SCHEDULE", (error as Error).message);
  }

  return {
    source,
    twitch,
    kafka: {
      brokers,
      topic,
      clientId: opt(
        "KAFKA_CLIENT_ID",
        (r) => parseToken("KAFKA_CLIENT_ID", r, "a client name without spaces"),
      ) ?? "twitch-datagen",
      partitions: opt(
        "KAFKA_TOPIC_PARTITIONS",
        (r) => parseInteger("KAFKA_TOPIC_PARTITIONS", r, { min: 1, max: 10_000 }),
      ) ?? 3,
      replicationFactor: opt(
        "KAFKA_REPLICATION_FACTOR",
        (r) => parseInteger("KAFKA_REPLICATION_FACTOR", r, { min: 1, max: 32 }),
      ),
      sasl,
      ssl,
      rebuildTimeoutMs: opt(
        "KAFKA_REBUILD_TIMEOUT_MS",
        (r) => parseInteger("KAFKA_REBUILD_TIMEOUT_MS", r, { min: 1000, max: 86_400_000 }),
      ) ?? 120_000,
    },
    ha,
    schedule,
    filters: {
      languages,
      gameIds,
      userLogins,
      maxStreams: opt(
        "MAX_STREAMS",
        (r) => parseInteger("MAX_STREAMS", r, { min: 1, max: 10_000_000 }),
      ),
    },
    scan: {
      mode: opt("SCAN_MODE", (r) => parseChoice("SCAN_MODE", r, SCAN_MODES)) ?? "auto",
      concurrency:
        opt("SCAN_CONCURRENCY", (r) => parseInteger("SCAN_CONCURRENCY", r, { min: 1, max: 100 })) ??
          16,
      requestTimeoutMs: opt(
        "HELIX_TIMEOUT_MS",
        (r) => parseInteger("HELIX_TIMEOUT_MS", r, { min: 100, max: 300_000 }),
      ) ?? 10_000,
      auditIntervalMs: opt(
        "SCAN_AUDIT_INTERVAL",
        (r) => parseDuration("SCAN_AUDIT_INTERVAL", r, { minMs: 60_000 }),
      ) ?? 3_600_000,
    },
    log: {
      level: opt("LOG_LEVEL", (r) => parseChoice("LOG_LEVEL", r, LOG_LEVELS)) ?? "info",
      format: logFormat,
    },
    http: parseHttpSettings(env),
    sim: source === "simulated" ? parseSimOptions(env) : undefined,
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
  const host = get(env, "HTTP_HOST");
  const port = get(env, "HTTP_PORT");
  return {
    host: host === undefined
      ? "0.0.0.0"
      : parseToken("HTTP_HOST", host, "an address such as 0.0.0.0 or 127.0.0.1"),
    port: port === undefined ? 8080 : parseInteger("HTTP_PORT", port, { min: 0, max: 65535 }),
  };
}
