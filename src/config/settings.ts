/**
 * The table of settings: every environment variable the service reads, its
 * default and its meaning. `--help`, the flags and the README's table come
 * from it.
 *
 * @module
 */

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
    name: "KAFKA_REBUILD_TIMEOUT_MS",
    default: "120000",
    description: "longest start-up read of the topic that rebuilds the live set",
  },
  {
    name: "HA",
    default: "on",
    description:
      "`on`: instances of one topic elect a leader that alone scans, writing in transactions; `off`: no election, no transactions (brokers without transactions)",
  },
  {
    name: "KAFKA_LEADER_GROUP",
    default: "twitch-datagen.<topic>.leader",
    description: "consumer group of the leader election (HA=on)",
  },
  {
    name: "KAFKA_SESSION_TIMEOUT_MS",
    default: "10000",
    description: "how soon leadership moves after the leader dies or is cut off (HA=on)",
  },
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
  {
    name: "SCAN_AUDIT_INTERVAL",
    default: "60m",
    description: "how often a scheduled scan pages unsplit to find unlisted languages; 0 = never",
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
    name: "SIM_RESTART_RATE",
    default: "0.3",
    description: "under churn, share of ending streams whose channel soon goes live again",
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
    name: "SIM_UNLISTED_LANGUAGES",
    default: "0",
    description: "simulated streams whose language code is outside ISO 639-1 (e.g. en-gb)",
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
