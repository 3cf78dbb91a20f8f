/**
 * The Flink SQL that `deno task analytics` runs: the shipped script
 * (`deploy/flink/twitch_streams.sql`) pointed at the chosen brokers and topic,
 * optionally bounded, split into statements, and the one query that streams
 * all four answers as a single changelog (one job, the topic read once).
 *
 * @module
 */

/** Where the script should read from, and whether the read ends. */
export interface ScriptTarget {
  /** Kafka bootstrap servers, `host:port,host:port`. */
  brokers: string;
  topic: string;
  /**
   * Stop at the offsets that are latest when the job starts, and take one
   * clock reading, so that the query ends (`--once`).
   */
  bounded: boolean;
}

const BROKERS_OPTION = "'properties.bootstrap.servers' = 'kafka:9092'";
const TOPIC_OPTION = "'topic' = 'twitch-streams'";
const UPSERT_CONNECTOR = "'connector' = 'upsert-kafka',";
const DATAGEN_CONNECTOR = "'connector' = 'datagen',";

/** A SQL string literal. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function replaceOnce(script: string, search: string, replacement: string): string {
  const count = script.split(search).length - 1;
  if (count !== 1) {
    throw new Error(`The Flink script should contain ${search} once, found it ${count} times`);
  }
  return script.replace(search, () => replacement);
}

/** The shipped script with the target's brokers and topic, bounded when asked. */
export function targetScript(script: string, target: ScriptTarget): string {
  let out = replaceOnce(
    script,
    BROKERS_OPTION,
    `'properties.bootstrap.servers' = ${literal(target.brokers)}`,
  );
  out = replaceOnce(out, TOPIC_OPTION, `'topic' = ${literal(target.topic)}`);
  if (target.bounded) {
    out = replaceOnce(
      out,
      UPSERT_CONNECTOR,
      `${UPSERT_CONNECTOR}\n  'scan.bounded.mode' = 'latest-offset',`,
    );
    out = replaceOnce(out, DATAGEN_CONNECTOR, `${DATAGEN_CONNECTOR}\n  'number-of-rows' = '1',`);
  }
  return out;
}

/**
 * Splits a script into statements at a `;` that ends a line, dropping
 * comment-only lines (the script keeps `;` out of strings and comments).
 */
export function splitStatements(script: string): string[] {
  const withoutComments = script
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;[ \t]*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "");
}

/** The names of the answers, in the order they are shown. */
export const ANSWER_NAMES = [
  "as_of",
  "live_streams",
  "top_games",
  "started_last_15_min",
  "top_tags",
  "top_streamer_per_game",
] as const;

/** One of {@linkcode ANSWER_NAMES}. */
export type AnswerName = typeof ANSWER_NAMES[number];

const ISO_SECONDS = "'yyyy-MM-dd''T''HH:mm:ss''Z'''";
const ISO_MILLIS = "'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''";

/** Each answer as a view's rows turned into JSON objects, columns named as in the output. */
const BRANCHES: Record<AnswerName, string> = {
  as_of: `SELECT 'as_of', JSON_OBJECT('now' VALUE DATE_FORMAT(now, ${ISO_MILLIS})) FROM clock`,
  live_streams:
    "SELECT 'live_streams', JSON_OBJECT('live_streams' VALUE live_streams) FROM live_stream_count",
  top_games:
    "SELECT 'top_games', JSON_OBJECT('rank' VALUE game_rank, 'game_name' VALUE game_name, " +
    "'streams' VALUE streams, 'viewers' VALUE viewers) FROM top_games",
  started_last_15_min: "SELECT 'started_last_15_min', JSON_OBJECT('id' VALUE id, " +
    "'user_login' VALUE user_login, 'user_name' VALUE user_name, 'game_name' VALUE game_name, " +
    `'started_at' VALUE DATE_FORMAT(started_at, ${ISO_SECONDS})) FROM started_last_15_min`,
  top_tags:
    "SELECT 'top_tags', JSON_OBJECT('rank' VALUE tag_rank, 'tag' VALUE tag, 'streams' VALUE streams) " +
    "FROM top_tags",
  top_streamer_per_game: "SELECT 'top_streamer_per_game', JSON_OBJECT('rank' VALUE game_rank, " +
    "'game_name' VALUE game_name, 'user_login' VALUE user_login, 'user_name' VALUE user_name, " +
    "'viewer_count' VALUE viewer_count) FROM top_streamer_per_game",
};

/** The query whose changelog rows are `[kind, answer name, row as JSON]`. */
export function answersQuery(): string {
  return ANSWER_NAMES.map((name) => BRANCHES[name]).join("\nUNION ALL\n");
}
