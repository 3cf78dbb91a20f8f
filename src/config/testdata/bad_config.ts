/**
 * Bad configurations and the one line each must be refused with: shared by
 * the unit tests of the parser and the tests of the running program.
 *
 * @module
 */

/** A distinctive client secret: it must never appear in an error. */
export const TWITCH_SECRET = "s3cr3t-value";

/** Valid Twitch credentials, so that each case fails on its own variable. */
export const TWITCH = { TWITCH_CLIENT_ID: "abc123", TWITCH_CLIENT_SECRET: TWITCH_SECRET };

/** [environment, expected one-line message]; each must be refused. */
export const BAD_CONFIG: [Record<string, string>, string][] = [
  [{ SOURCE: "youtube" }, 'SOURCE: "youtube" is not allowed; expected one of twitch, simulated'],
  [
    { TWITCH_CLIENT_SECRET: "x" },
    "TWITCH_CLIENT_ID: is not set; set it to your Twitch app's client id, or use SOURCE=simulated",
  ],
  [
    { TWITCH_CLIENT_ID: "x" },
    "TWITCH_CLIENT_SECRET: is not set; set it to your Twitch app's client secret, or use SOURCE=simulated",
  ],
  [
    { ...TWITCH, TWITCH_CLIENT_ID: "has space" },
    "TWITCH_CLIENT_ID: is empty or contains spaces; expected the value from your app in the Twitch developer console",
  ],
  [
    { ...TWITCH, KAFKA_BROKERS: "localhost" },
    'KAFKA_BROKERS: "localhost" is not a broker address; expected host:port[,host:port...], e.g. localhost:9092',
  ],
  [
    { ...TWITCH, KAFKA_BROKERS: "h:70000" },
    'KAFKA_BROKERS: "h:70000" is not a broker address; expected host:port[,host:port...], e.g. localhost:9092',
  ],
  [
    { ...TWITCH, KAFKA_BROKERS: " , " },
    "KAFKA_BROKERS: is empty; expected host:port[,host:port...], e.g. localhost:9092",
  ],
  [
    { ...TWITCH, KAFKA_TOPIC: "bad topic" },
    'KAFKA_TOPIC: "bad topic" is not a valid topic name; expected 1-249 characters of letters, digits, ".", "_" or "-"',
  ],
  [
    { ...TWITCH, KAFKA_TOPIC: ".." },
    'KAFKA_TOPIC: ".." is not a valid topic name; expected 1-249 characters of letters, digits, ".", "_" or "-"',
  ],
  [
    { ...TWITCH, KAFKA_CLIENT_ID: "a b" },
    "KAFKA_CLIENT_ID: is empty or contains spaces; expected a client name without spaces",
  ],
  [
    { ...TWITCH, KAFKA_TOPIC_PARTITIONS: "0" },
    "KAFKA_TOPIC_PARTITIONS: 0 is out of range; expected an integer from 1 to 10000",
  ],
  [
    { ...TWITCH, KAFKA_TOPIC_PARTITIONS: "three" },
    'KAFKA_TOPIC_PARTITIONS: "three" is not a whole number; expected an integer from 1 to 10000',
  ],
  [
    { ...TWITCH, KAFKA_REPLICATION_FACTOR: "1.5" },
    'KAFKA_REPLICATION_FACTOR: "1.5" is not a whole number; expected an integer from 1 to 32',
  ],
  [
    { ...TWITCH, KAFKA_SASL_MECHANISM: "gssapi" },
    'KAFKA_SASL_MECHANISM: "gssapi" is not allowed; expected one of plain, scram-sha-256, scram-sha-512',
  ],
  [
    { ...TWITCH, KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_PASSWORD: "pw" },
    "KAFKA_SASL_USERNAME: is not set; KAFKA_SASL_MECHANISM needs a user name",
  ],
  [
    { ...TWITCH, KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u" },
    "KAFKA_SASL_PASSWORD: is not set; KAFKA_SASL_MECHANISM needs a password",
  ],
  [
    { ...TWITCH, KAFKA_SASL_PASSWORD: "pw" },
    "KAFKA_SASL_MECHANISM: is not set but a SASL user or password is; set it to plain, scram-sha-256 or scram-sha-512",
  ],
  [
    { ...TWITCH, KAFKA_SSL: "maybe" },
    'KAFKA_SSL: "maybe" is not a boolean; expected true or false',
  ],
  [
    { ...TWITCH, KAFKA_SSL: "false", KAFKA_SSL_CA_FILE: "/ca.pem" },
    "KAFKA_SSL: is false but TLS files are set; set KAFKA_SSL=true or unset the KAFKA_SSL_*_FILE variables",
  ],
  [
    { ...TWITCH, KAFKA_SSL_CERT_FILE: "/c.pem" },
    "KAFKA_SSL_KEY_FILE: is not set; a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE",
  ],
  [
    { ...TWITCH, SCHEDULE: "every minute" },
    'SCHEDULE: "every minute" has 2 fields; expected five: minute hour day-of-month month day-of-week, e.g. "* * * * *"',
  ],
  [
    { ...TWITCH, SCHEDULE: "61 * * * *" },
    'SCHEDULE: minute field "61" is out of range; expected 0-59',
  ],
  [
    { ...TWITCH, STREAM_LANGUAGES: "english" },
    'STREAM_LANGUAGES: "english" is not valid; expected ISO 639-1 codes such as en,de or other',
  ],
  [
    { ...TWITCH, STREAM_GAME_IDS: "abc" },
    'STREAM_GAME_IDS: "abc" is not valid; expected numeric game ids such as 509658',
  ],
  [
    { ...TWITCH, STREAM_USER_LOGINS: "no-dash" },
    'STREAM_USER_LOGINS: "no-dash" is not valid; expected Twitch logins (letters, digits, _; at most 25 characters)',
  ],
  [
    { ...TWITCH, STREAM_GAME_IDS: Array.from({ length: 101 }, (_, i) => i).join(",") },
    "STREAM_GAME_IDS: has 101 values; Helix accepts at most 100 per query",
  ],
  [
    { ...TWITCH, MAX_STREAMS: "-5" },
    "MAX_STREAMS: -5 is out of range; expected an integer from 1 to 10000000",
  ],
  [
    { ...TWITCH, SCAN_MODE: "fast" },
    'SCAN_MODE: "fast" is not allowed; expected one of auto, sequential, sharded',
  ],
  [
    { ...TWITCH, SCAN_CONCURRENCY: "0" },
    "SCAN_CONCURRENCY: 0 is out of range; expected an integer from 1 to 100",
  ],
  [
    { ...TWITCH, KAFKA_REBUILD_TIMEOUT_MS: "500" },
    "KAFKA_REBUILD_TIMEOUT_MS: 500 is out of range; expected an integer from 1000 to 86400000",
  ],
  [
    { ...TWITCH, KAFKA_REBUILD_TIMEOUT_MS: "2m" },
    'KAFKA_REBUILD_TIMEOUT_MS: "2m" is not a whole number; expected an integer from 1000 to 86400000',
  ],
  [
    { ...TWITCH, HELIX_TIMEOUT_MS: "10" },
    "HELIX_TIMEOUT_MS: 10 is out of range; expected an integer from 100 to 300000",
  ],
  [
    { ...TWITCH, LOG_LEVEL: "verbose" },
    'LOG_LEVEL: "verbose" is not allowed; expected one of debug, info, warning, error',
  ],
  [
    { ...TWITCH, LOG_FORMAT: "xml" },
    'LOG_FORMAT: "xml" is not allowed; expected one of json, pretty',
  ],
  [
    { ...TWITCH, HTTP_PORT: "65536" },
    "HTTP_PORT: 65536 is out of range; expected an integer from 0 to 65535",
  ],
  [
    { ...TWITCH, HTTP_HOST: "a b" },
    "HTTP_HOST: is empty or contains spaces; expected an address such as 0.0.0.0 or 127.0.0.1",
  ],
];
