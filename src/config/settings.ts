/**
 * The table of settings: every environment variable the service and the
 * simulator read, with its default, its parser and its meaning. Parsing
 * (`config.ts`, `simulator.ts`), the flags, `--help`, `deno task sim --help`
 * and the README's tables all come from it.
 *
 * A new setting is one entry in {@link SETTINGS} (its default as text, a
 * parser from `values.ts`, one line of meaning); `parseConfig` then finds its
 * parsed value under its name, and `deno task docs` adds it to the README.
 *
 * @module
 */

import {
  choice,
  integer,
  number,
  parseBoolean,
  parseBrokers,
  parseDuration,
  parseList,
  parseTopic,
  text,
  token,
  webSocketUrl,
} from "./values.ts";
import { defaultSimulatorOptions, MAX_SIM_STREAMS } from "../sim/options.ts";

/** Where the data comes from, accepted by `SOURCE`. */
export const SOURCES = ["twitch", "simulated"] as const;
/** One of {@link SOURCES}. */
export type Source = (typeof SOURCES)[number];
/** Log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Log formats accepted by `LOG_FORMAT`. */
export const LOG_FORMATS = ["json", "pretty"] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];
/** SASL mechanisms accepted by `KAFKA_SASL_MECHANISM`. */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
/** One of {@link SASL_MECHANISMS}. */
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
/** Leader election and transactions, `HA`. */
export const HA_MODES = ["on", "off"] as const;
/** Scan strategies accepted by `SCAN_MODE`. */
export const SCAN_MODES = ["auto", "sequential", "sharded"] as const;
/** One of {@link SCAN_MODES}. */
export type ScanMode = (typeof SCAN_MODES)[number];

/** One setting: its default, how its value is parsed, and what it means. */
export interface Setting<T = unknown> {
  /** The value used when the variable is unset or empty; parsed like a given value. */
  default?: string;
  /** What the documentation shows as the default when it is not a plain value. */
  defaultText?: string;
  /** What the setting means, one line (the README's and `--help`'s wording). */
  description: string;
  /** Parses a non-empty value; throws a `ConfigError` naming the setting. */
  parse(name: string, raw: string): T;
  /** `sim` for the simulator's settings, which `deno task sim` also reads. */
  group?: "sim";
}

/** A setting with a default: its value is never missing. */
type Defaulted<T> = Setting<T> & { default: string };

function setting<T>(entry: Defaulted<T>): Defaulted<T>;
function setting<T>(entry: Setting<T>): Setting<T>;
function setting<T>(entry: Setting<T>): Setting<T> {
  return entry;
}

/** A comma list of up to 100 Twitch logins, in lower case. */
function loginList(name: string, raw: string): string[] {
  return parseList(name, raw, {
    pattern: /^[a-z0-9_]{1,25}$/,
    form: "Twitch logins (letters, digits, _; at most 25 characters)",
    max: 100,
    lowerCase: true,
  });
}

/** The simulator's defaults, which its settings show and fall back to. */
const SIM = defaultSimulatorOptions();

/** Most channels EventSub can follow: `max_total_cost` 10,000 at cost 2 a channel (online + offline). */
export const MAX_EVENTSUB_CHANNELS = 5_000;
/** Channels EventSub follows by default (see the README's budget arithmetic). */
export const DEFAULT_EVENTSUB_CHANNELS = 1_000;

const CREDENTIAL = "the value from your app in the Twitch developer console";

/** Every environment variable the service reads, in the order the README lists them. */
export const SETTINGS = {
  SOURCE: setting({
    default: "twitch",
    description: "`twitch`, or `simulated` for the built-in Helix simulator",
    parse: choice(SOURCES),
  }),
  TWITCH_CLIENT_ID: setting({
    description: "Twitch app client id (required when SOURCE=twitch)",
    parse: token(CREDENTIAL),
  }),
  TWITCH_CLIENT_SECRET: setting({
    description: "Twitch app client secret (required when SOURCE=twitch)",
    parse: token(CREDENTIAL),
  }),
  WATCH_USER_LOGINS: setting({
    description: "channels followed in real time over EventSub (comma list, at most 100)",
    parse: loginList,
  }),
  EVENTSUB_CHANNELS: setting({
    default: String(DEFAULT_EVENTSUB_CHANNELS),
    description:
      "channels kept under stream.online + stream.offline: WATCH_USER_LOGINS plus the most watched; 0 = EventSub off",
    parse: integer(
      0,
      MAX_EVENTSUB_CHANNELS,
      `a number of channels from 0 (off) to ${MAX_EVENTSUB_CHANNELS} (Twitch's max_total_cost of 10000 at 2 subscriptions a channel)`,
    ),
  }),
  EVENTSUB_SHARDS: setting({
    default: "2",
    description: "WebSocket shards of the EventSub conduit (app credentials only)",
    parse: integer(1, 20_000, "a number of shards from 1 to 20000"),
  }),
  EVENTSUB_WS_URL: setting({
    defaultText: "wss://eventsub.wss.twitch.tv/ws (the simulator's with SOURCE=simulated)",
    description: "EventSub WebSocket server (tests, the simulator, the Twitch CLI's mock)",
    parse: webSocketUrl,
  }),
  KAFKA_BROKERS: setting({
    default: "localhost:9092",
    description: "comma-separated host:port list",
    parse: parseBrokers,
  }),
  KAFKA_TOPIC: setting({
    default: "twitch-streams",
    description: "topic the records go to",
    parse: parseTopic,
  }),
  KAFKA_CLIENT_ID: setting({
    default: "twitch-datagen",
    description: "Kafka client id",
    parse: token("a client name without spaces"),
  }),
  KAFKA_TOPIC_PARTITIONS: setting({
    default: "3",
    description: "partitions when the topic is created",
    parse: integer(1, 10_000),
  }),
  KAFKA_REPLICATION_FACTOR: setting({
    defaultText: "min(3, brokers)",
    description: "replication when the topic is created",
    parse: integer(1, 32),
  }),
  KAFKA_SASL_MECHANISM: setting({
    description: "`plain`, `scram-sha-256` or `scram-sha-512`",
    parse: choice(SASL_MECHANISMS),
  }),
  KAFKA_SASL_USERNAME: setting({ description: "SASL user name", parse: text }),
  KAFKA_SASL_PASSWORD: setting({ description: "SASL password", parse: text }),
  KAFKA_SSL: setting({
    defaultText: "false",
    description: "`true` to connect with TLS",
    parse: parseBoolean,
  }),
  KAFKA_SSL_CA_FILE: setting({
    description: "PEM file of the CA that signed the brokers' certificates",
    parse: text,
  }),
  KAFKA_SSL_CERT_FILE: setting({ description: "PEM client certificate (mutual TLS)", parse: text }),
  KAFKA_SSL_KEY_FILE: setting({ description: "PEM client key (mutual TLS)", parse: text }),
  KAFKA_REBUILD_TIMEOUT_MS: setting({
    default: "120000",
    description: "longest start-up read of the topic that rebuilds the live set",
    parse: integer(1000, 86_400_000),
  }),
  HA: setting({
    default: "on",
    description:
      "`on`: instances of one topic elect a leader that alone scans, writing in transactions; `off`: no election, no transactions (brokers without transactions)",
    parse: choice(HA_MODES),
  }),
  KAFKA_LEADER_GROUP: setting({
    defaultText: "twitch-datagen.<topic>.leader",
    description: "consumer group of the leader election (HA=on)",
    parse: token("a group id without spaces"),
  }),
  KAFKA_SESSION_TIMEOUT_MS: setting({
    default: "10000",
    description: "how soon leadership moves after the leader dies or is cut off (HA=on)",
    // The broker's group.min.session.timeout.ms is 6000 by default.
    parse: integer(6000, 300_000),
  }),
  SCHEDULE: setting({
    default: "* * * * *",
    description: "five-field cron expression (UTC) for scans",
    parse: text,
  }),
  STREAM_LANGUAGES: setting({
    description: "only these languages (comma list, at most 100)",
    parse: (name, raw) =>
      parseList(name, raw, {
        pattern: /^([a-z]{2}|asl|zh-hk|other)$/,
        form: "ISO 639-1 codes such as en,de or other",
        max: 100,
        lowerCase: true,
      }),
  }),
  STREAM_GAME_IDS: setting({
    description: "only these game/category ids (comma list, at most 100)",
    parse: (name, raw) =>
      parseList(name, raw, { pattern: /^\d+$/, form: "numeric game ids such as 509658", max: 100 }),
  }),
  STREAM_USER_LOGINS: setting({
    description: "only these channels (comma list, at most 100)",
    parse: loginList,
  }),
  MAX_STREAMS: setting({
    description: "stop after the top N streams by viewers",
    parse: integer(1, 10_000_000),
  }),
  SCAN_MODE: setting({
    default: "auto",
    description:
      "`auto` (parallel by language or game where the filters allow), `sharded` (the same, and refuse filters that do not), or `sequential`",
    parse: choice(SCAN_MODES),
  }),
  SCAN_CONCURRENCY: setting({
    default: "16",
    description: "shards fetched at once in a sharded scan",
    parse: integer(1, 100),
  }),
  SCAN_AUDIT_INTERVAL: setting({
    default: "60m",
    description: "how often a scheduled scan pages unsplit to find unlisted languages; 0 = never",
    parse: (name, raw) => parseDuration(name, raw, { minMs: 60_000 }),
  }),
  HELIX_CACHE_HORIZON: setting({
    defaultText: "10m (SOURCE=simulated: 10m if its cache lags, else 0)",
    description:
      "a missing stream younger than this that a look-up calls gone is held, not ended (Helix's cache nodes learn of new streams minutes apart); 0 = end at once",
    parse: (name, raw) => parseDuration(name, raw, { minMs: 1_000 }),
  }),
  HELIX_TIMEOUT_MS: setting({
    default: "10000",
    description: "timeout of one Helix request",
    parse: integer(100, 300_000),
  }),
  LOG_LEVEL: setting({
    default: "info",
    description: "`debug`, `info`, `warning` or `error`",
    parse: choice(LOG_LEVELS),
  }),
  LOG_FORMAT: setting({
    defaultText: "json (pretty on a terminal)",
    description: "`json` or `pretty`",
    parse: choice(LOG_FORMATS),
  }),
  HTTP_HOST: setting({
    default: "0.0.0.0",
    description: "address of the health and metrics endpoint",
    parse: token("an address such as 0.0.0.0 or 127.0.0.1"),
  }),
  HTTP_PORT: setting({
    default: "8080",
    description: "port of the health and metrics endpoint; 0 disables it",
    parse: integer(0, 65_535),
  }),
  SIM_STREAMS: setting({
    group: "sim",
    default: String(SIM.streams),
    description: "simulated streams live at the start (0 to 1000000)",
    parse: integer(0, MAX_SIM_STREAMS),
  }),
  SIM_SEED: setting({
    group: "sim",
    default: String(SIM.seed),
    description: "seed of all simulated data (0 to 4294967295)",
    parse: integer(0, 4_294_967_295),
  }),
  SIM_PORT: setting({
    group: "sim",
    default: String(SIM.port),
    defaultText: "0 (deno task sim: 8090)",
    description: "port of the simulator on localhost; 0 = any free port",
    parse: integer(0, 65_535, "a port from 0 (any free port) to 65535"),
  }),
  SIM_RATE_LIMIT: setting({
    group: "sim",
    default: String(SIM.rateLimit),
    description: "simulated rate limit, points per minute per client id",
    parse: integer(1, 1_000_000, "points per minute from 1 to 1000000"),
  }),
  SIM_LATENCY_MS: setting({
    group: "sim",
    default: String(SIM.latencyMs),
    description: "added latency per simulated request, in milliseconds",
    parse: integer(0, 60_000, "milliseconds from 0 to 60000"),
  }),
  SIM_FAULT_RATE: setting({
    group: "sim",
    default: String(SIM.faultRate),
    description: "fraction (0..1) of simulated pages answered with a 500 or 503",
    parse: number(0, 1, "a fraction from 0 to 1, e.g. 0.05"),
  }),
  SIM_FAIL_AFTER: setting({
    group: "sim",
    defaultText: "unset (never)",
    description: "good simulated pages before every page answers 503",
    parse: integer(0, Number.MAX_SAFE_INTEGER, "an integer of 0 or more, or unset for never"),
  }),
  SIM_CHURN: setting({
    group: "sim",
    default: String(SIM.churn),
    description: "how fast simulated viewers and streams change; 0 = static",
    parse: number(0, 10_000, "a number from 0 (static) to 10000, e.g. 1"),
  }),
  SIM_RESTART_RATE: setting({
    group: "sim",
    default: String(SIM.restartRate),
    description: "under churn, share of ending streams whose channel soon goes live again",
    parse: number(0, 1, "a fraction from 0 to 1, e.g. 0.3"),
  }),
  SIM_EXPIRED_STREAMS: setting({
    group: "sim",
    default: String(SIM.expiredStreams),
    description: "stale simulated streams listed with started_at over 48 hours ago",
    parse: integer(0, MAX_SIM_STREAMS, "an integer from 0 to SIM_STREAMS"),
  }),
  SIM_UNLISTED_LANGUAGES: setting({
    group: "sim",
    default: String(SIM.unlistedStreams),
    description: "simulated streams whose language code is outside ISO 639-1 (e.g. en-gb)",
    parse: integer(0, MAX_SIM_STREAMS, "an integer from 0 to SIM_STREAMS"),
  }),
  SIM_HOSTILE_TITLES: setting({
    group: "sim",
    default: "0",
    description:
      "1: every fourth simulated title is hostile (markup, bidi overrides, emoji, length)",
    parse: integer(0, 1, "0 (ordinary titles) or 1 (hostile titles)"),
  }),
  SIM_CACHE_LAG_S: setting({
    group: "sim",
    default: String(SIM.cacheLagSeconds),
    description:
      "each simulated answer comes from one of several cache nodes up to this many seconds behind",
    parse: integer(0, 3600, "seconds from 0 to 3600"),
  }),
  SIM_ONLINE_LAG_S: setting({
    group: "sim",
    default: String(SIM.onlineLagSeconds),
    description: "seconds from a simulated stream.online until Get Streams lists the stream",
    parse: integer(0, 3600, "seconds from 0 to 3600"),
  }),
  SIM_CURSOR_LOOP: setting({
    group: "sim",
    defaultText: "false",
    description: "`true`: the last simulated page's cursor leads back to page 1",
    parse: parseBoolean,
  }),
  SIM_EMPTY_PAGES: setting({
    group: "sim",
    default: String(SIM.emptyPageRate),
    description:
      "chance (0..1) that the last simulated page is first answered empty, with a cursor",
    parse: number(0, 1, "a fraction from 0 to 1, e.g. 0.2"),
  }),
  SIM_BAD_CURSOR_RATE: setting({
    group: "sim",
    default: String(SIM.badCursorRate),
    description:
      "fraction (0..1) of simulated pages asked with a cursor answered 400 invalid cursor",
    parse: number(0, 1, "a fraction from 0 to 1, e.g. 0.01"),
  }),
  SIM_REFILL_PER_MIN: setting({
    group: "sim",
    defaultText: "SIM_RATE_LIMIT",
    description:
      "points per minute the simulated bucket really refills (the headers still say SIM_RATE_LIMIT)",
    parse: integer(1, 1_000_000, "points per minute from 1 to 1000000"),
  }),
  SIM_REALISTIC: setting({
    group: "sim",
    defaultText: "false",
    description:
      "`true`: Twitch-like cache lag (300 s), online lag (60 s), cursor loop, empty pages (0.2), bad cursors (0.01), refill 600; each overridable",
    parse: parseBoolean,
  }),
  SIM_TOKEN_TTL: setting({
    group: "sim",
    default: String(SIM.tokenTtlSeconds),
    description: "lifetime of simulated app tokens, in seconds (60 days)",
    parse: integer(1, 315_360_000, "seconds from 1 to 315360000"),
  }),
  SIM_EVENTSUB_MAX_COST: setting({
    group: "sim",
    default: String(SIM.eventSubMaxCost),
    description: "max_total_cost of the app's simulated EventSub subscriptions (Twitch: 10000)",
    parse: integer(0, 1_000_000, "an integer from 0 to 1000000"),
  }),
};

/** The name of a setting: its environment variable. */
export type SettingName = keyof typeof SETTINGS;

/** Every setting's name, in the table's order. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Value<S> = S extends Setting<infer T> ? (S extends Defaulted<T> ? T : T | undefined) : never;

/** The parsed value of each setting: never missing where the table has a default. */
export type SettingValues = { [K in SettingName]: Value<(typeof SETTINGS)[K]> };

/**
 * Reads the settings `names` from `env`: an unset or empty variable takes the
 * table's default, parsed by the same parser as a given value.
 *
 * @throws {ConfigError} naming the first variable that cannot be used.
 */
export function readSettings<K extends SettingName>(
  env: Record<string, string | undefined>,
  names: readonly K[],
): Pick<SettingValues, K> {
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const entry: Setting = SETTINGS[name];
    const given = env[name];
    const raw = given === undefined || given.trim() === "" ? entry.default : given;
    values[name] = raw === undefined ? undefined : entry.parse(name, raw);
  }
  return values as Pick<SettingValues, K>;
}

/** The names of one group's settings, in the table's order: the service's own or the simulator's. */
export function settingsOf(group: "service" | "sim"): SettingName[] {
  return SETTING_NAMES.filter((name) => ((SETTINGS[name] as Setting).group ?? "service") === group);
}
