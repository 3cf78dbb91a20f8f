/**
 * The service's configuration: environment variables (also read from a
 * `.env` file), overridden by command-line flags, validated in one place at
 * start-up. Everything here is pure: the caller passes the environment, the
 * arguments and the `.env` text in.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseEnv } from "node:util";
import { ConfigError } from "./errors.ts";
import { type CronSchedule, parseCron } from "./cron.ts";
import {
  parseBoolean,
  parseBrokers,
  parseChoice,
  parseInteger,
  parseList,
  parseToken,
  parseTopic,
} from "./config_values.ts";
import { parseSimOptions, type SimulatorOptions } from "./sim/mod.ts";

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
  };
  schedule: CronSchedule;
  filters: StreamFilters;
  scan: { mode: (typeof SCAN_MODES)[number]; concurrency: number; requestTimeoutMs: number };
  log: { level: (typeof LOG_LEVELS)[number]; format: "json" | "pretty" };
  http: { host: string; port: number };
  /** Simulator settings, when `source` is `simulated`. */
  sim?: Partial<SimulatorOptions>;
  once: boolean;
  dryRun: boolean;
}

/** One documented setting: its variable, default and meaning (the README's table). */
export interface Setting {
  name: string;
  default?: string;
  description: string;
}

/** Every environment variable the service reads, in the order the README lists them. */
export const SETTINGS: readonly Setting[] = [
  {
    name: "SOURCE",
    default: "twitch",
    description: "`twitch`, or `simulated` for the built-in Helix simulator",
  },
  { name: "TWITCH_CLIENT_ID", description: "Twitch app client id (required when SOURCE=twitch)" },
  {
    name: "TWITCH_CLIENT_SECRET",
    description: "Twitch app client secret (required when SOURCE=twitch)",
  },
  {
    name: "KAFKA_BROKERS",
    default: "localhost:9092",
    description: "comma-separated host:port list",
  },
  { name: "KAFKA_TOPIC", default: "twitch-streams", description: "topic the records go to" },
  { name: "KAFKA_CLIENT_ID", default: "twitch-datagen", description: "Kafka client id" },
  {
    name: "KAFKA_TOPIC_PARTITIONS",
    default: "3",
    description: "partitions when the topic is created",
  },
  {
    name: "KAFKA_REPLICATION_FACTOR",
    default: "min(3, brokers)",
    description: "replication when the topic is created",
  },
  { name: "KAFKA_SASL_MECHANISM", description: "`plain`, `scram-sha-256` or `scram-sha-512`" },
  { name: "KAFKA_SASL_USERNAME", description: "SASL user name" },
  { name: "KAFKA_SASL_PASSWORD", description: "SASL password" },
  { name: "KAFKA_SSL", default: "false", description: "`true` to connect with TLS" },
  {
    name: "KAFKA_SSL_CA_FILE",
    description: "PEM file of the CA that signed the brokers' certificates",
  },
  { name: "KAFKA_SSL_CERT_FILE", description: "PEM client certificate (mutual TLS)" },
  { name: "KAFKA_SSL_KEY_FILE", description: "PEM client key (mutual TLS)" },
  {
    name: "SCHEDULE",
    default: "* * * * *",
    description: "five-field cron expression (UTC) for scans",
  },
  { name: "STREAM_LANGUAGES", description: "only these languages (comma list, at most 100)" },
  {
    name: "STREAM_GAME_IDS",
    description: "only these game/category ids (comma list, at most 100)",
  },
  { name: "STREAM_USER_LOGINS", description: "only these channels (comma list, at most 100)" },
  { name: "MAX_STREAMS", description: "stop after the top N streams by viewers" },
  {
    name: "SCAN_MODE",
    default: "auto",
    description: "`sharded` (parallel by language), `sequential`, or `auto`",
  },
  {
    name: "SCAN_CONCURRENCY",
    default: "16",
    description: "shards fetched at once in a sharded scan",
  },
  { name: "HELIX_TIMEOUT_MS", default: "10000", description: "timeout of one Helix request" },
  { name: "LOG_LEVEL", default: "info", description: "`debug`, `info`, `warning` or `error`" },
  { name: "LOG_FORMAT", default: "json (pretty on a terminal)", description: "`json` or `pretty`" },
  {
    name: "HTTP_HOST",
    default: "0.0.0.0",
    description: "address of the health and metrics endpoint",
  },
  {
    name: "HTTP_PORT",
    default: "8080",
    description: "port of the health and metrics endpoint; 0 disables it",
  },
  { name: "SIM_STREAMS", default: "5000", description: "simulated live streams" },
  { name: "SIM_SEED", default: "1", description: "seed of the simulated data" },
  { name: "SIM_LATENCY_MS", default: "0", description: "added latency per simulated request" },
  {
    name: "SIM_RATE_LIMIT",
    default: "800",
    description: "simulated rate limit, points per minute",
  },
  {
    name: "SIM_FAULT_RATE",
    default: "0",
    description: "fraction (0..1) of simulated requests answering 5xx",
  },
  {
    name: "SIM_CHURN",
    default: "0",
    description: "how fast simulated viewers and streams change; 0 = static",
  },
  {
    name: "SIM_PORT",
    default: "0 (any free port)",
    description: "port of the in-process simulator",
  },
  {
    name: "SIM_EXPIRED_STREAMS",
    default: "0",
    description: "stale simulated streams listed with started_at over 48 hours ago",
  },
  {
    name: "SIM_FAIL_AFTER",
    description: "after this many good pages every simulated page answers 503",
  },
  {
    name: "SIM_TOKEN_TTL",
    default: "5184000",
    description: "lifetime of simulated app tokens, in seconds",
  },
];

/** Command-line flags that are not settings. */
export interface Flags {
  once: boolean;
  dryRun: boolean;
  help: boolean;
  version: boolean;
  healthcheck: boolean;
  envFile?: string;
  /** Settings given as flags (`--kafka-brokers x` sets KAFKA_BROKERS), by variable name. */
  overrides: Record<string, string>;
}

function flagName(variable: string): string {
  return variable.toLowerCase().replaceAll("_", "-");
}

/**
 * Parses the command line. Every setting may also be given as a flag named
 * after its variable (`--kafka-brokers`, `--schedule`, ...).
 */
export function parseFlags(args: string[]): Flags {
  const options: Record<string, { type: "string" | "boolean" }> = {
    "once": { type: "boolean" },
    "dry-run": { type: "boolean" },
    "help": { type: "boolean" },
    "version": { type: "boolean" },
    "healthcheck": { type: "boolean" },
    "env-file": { type: "string" },
  };
  for (const s of SETTINGS) options[flagName(s.name)] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs quotes what it did not understand; a stray word may be a pasted secret.
    const text = error instanceof Error ? error.message.split("\n")[0] : String(error);
    const problem = /^Unexpected argument/.test(text)
      ? "unexpected argument (settings are given as --name value)"
      : text;
    throw new ConfigError("command line", `${problem}; run with --help to see the flags`);
  }
  const overrides: Record<string, string> = {};
  for (const s of SETTINGS) {
    const value = values[flagName(s.name)];
    if (typeof value === "string") overrides[s.name] = value;
  }
  return {
    once: values["once"] === true,
    dryRun: values["dry-run"] === true,
    help: values["help"] === true,
    version: values["version"] === true,
    healthcheck: values["healthcheck"] === true,
    envFile: values["env-file"] as string | undefined,
    overrides,
  };
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
  options: { once?: boolean; dryRun?: boolean; stderrIsTerminal?: boolean } = {},
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
      topic: opt("KAFKA_TOPIC", (r) => parseTopic("KAFKA_TOPIC", r)) ?? "twitch-streams",
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
    },
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
    },
    log: {
      level: opt("LOG_LEVEL", (r) => parseChoice("LOG_LEVEL", r, LOG_LEVELS)) ?? "info",
      format: logFormat,
    },
    http: parseHttpSettings(env),
    sim: source === "simulated" ? parseSimOptions(env) : undefined,
    once: options.once ?? false,
    dryRun: options.dryRun ?? false,
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
