-- Live Twitch streams in Apache Flink SQL (2.x), read from the Kafka topic twitch-streams,
-- and the four questions of the original design as continuously updated views.
--
-- Each record is keyed by stream id and carries the Helix stream object as JSON; a record
-- with a null value (tombstone) means the stream ended. The upsert-kafka connector keeps
-- the newest value per key and deletes the row on a tombstone.
--
-- Needs the Kafka SQL connector on the classpath
-- (org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2, from Maven Central). Run it with
-- the SQL client (`sql-client.sh -i twitch_streams.sql`), or let `deno task analytics`
-- run it. Change the broker address and the topic below to match KAFKA_BROKERS and
-- KAFKA_TOPIC.

SET 'table.local-time-zone' = 'UTC';
-- Mini-batches: aggregations fold the updates of up to half a second into one, so reading the
-- topic's history does not pass every intermediate count downstream.
SET 'table.exec.mini-batch.enabled' = 'true';
SET 'table.exec.mini-batch.allow-latency' = '500 ms';
SET 'table.exec.mini-batch.size' = '5000';

-- Every field of the Helix stream object, typed. Helix sends started_at as ISO 8601
-- ("2026-12-03T17:04:05Z"); tags and the deprecated tag_ids are arrays (null is allowed:
-- Helix has sent null for both). A field Helix leaves out reads as NULL instead of failing
-- the job.
CREATE TABLE twitch_streams (
  id STRING,
  user_id STRING,
  user_login STRING,
  user_name STRING,
  game_id STRING,
  game_name STRING,
  `type` STRING,
  title STRING,
  tags ARRAY<STRING>,
  viewer_count INT,
  started_at TIMESTAMP_LTZ(3),
  `language` STRING,
  thumbnail_url STRING,
  tag_ids ARRAY<STRING>,
  is_mature BOOLEAN,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'properties.bootstrap.servers' = 'kafka:9092',
  'topic' = 'twitch-streams',
  -- The key is the stream id as plain UTF-8, not JSON.
  'key.format' = 'raw',
  'value.format' = 'json',
  'value.json.timestamp-format.standard' = 'ISO-8601',
  'value.json.fail-on-missing-field' = 'false',
  'value.json.ignore-parse-errors' = 'false'
);

-- A clock: one row whose value is the current time, updated every second. Flink SQL has
-- no temporal filter over an updating table (nothing like Materialize's mz_now()):
-- CURRENT_TIMESTAMP and CURRENT_WATERMARK are evaluated once per record as it passes, so a
-- row that matched "the last 15 minutes" when it arrived would stay forever. Joining with
-- this clock re-evaluates the condition every time the clock moves.
CREATE TABLE clock_ticks (
  tick INT,
  ticked_at AS PROCTIME()
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '1',
  'fields.tick.kind' = 'random',
  'fields.tick.min' = '0',
  'fields.tick.max' = '0'
);

CREATE VIEW clock AS
SELECT CAST(MAX(ticked_at) AS TIMESTAMP_LTZ(3)) AS now
FROM clock_ticks;

-- Question 0, the basis of the others: how many streams are live.
CREATE VIEW live_stream_count AS
SELECT COUNT(*) AS live_streams
FROM twitch_streams;

-- Question 1: the most popular games, by stream count and total viewers (streams without a
-- category are not a game). Flink's Top-N pattern keeps the ten first.
CREATE VIEW game_stats AS
SELECT game_id, game_name, COUNT(*) AS streams, SUM(CAST(viewer_count AS BIGINT)) AS viewers
FROM twitch_streams
WHERE game_id <> ''
GROUP BY game_id, game_name;

CREATE VIEW top_games AS
SELECT game_id, game_name, streams, viewers, game_rank
FROM (
  SELECT *, ROW_NUMBER() OVER (ORDER BY streams DESC, viewers DESC, game_name ASC) AS game_rank
  FROM game_stats
)
WHERE game_rank <= 10;

-- Question 2: the streams that started in the last 15 minutes, kept right as time passes by
-- the join with the clock: each tick drops the streams that have grown older.
CREATE VIEW started_last_15_min AS
SELECT s.id, s.user_login, s.user_name, s.game_name, s.started_at
FROM twitch_streams AS s
JOIN clock AS c ON s.started_at > c.now - INTERVAL '15' MINUTE;

-- Question 3: the tags used most, counted in streams (a tag listed twice by one stream
-- counts once).
CREATE VIEW tag_stats AS
SELECT tag, COUNT(DISTINCT s.id) AS streams
FROM twitch_streams AS s
CROSS JOIN UNNEST(s.tags) AS t (tag)
GROUP BY tag;

CREATE VIEW top_tags AS
SELECT tag, streams, tag_rank
FROM (
  SELECT *, ROW_NUMBER() OVER (ORDER BY streams DESC, tag ASC) AS tag_rank
  FROM tag_stats
)
WHERE tag_rank <= 10;

-- Question 4: the most watched streamer in each of the top 10 games: Top-N per game
-- (PARTITION BY), joined with the top games. Ties go to the lower stream id.
CREATE VIEW top_stream_per_game AS
SELECT game_id, id, user_login, user_name, viewer_count
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY game_id ORDER BY viewer_count DESC, id ASC) AS rn
  FROM twitch_streams
  WHERE game_id <> ''
)
WHERE rn = 1;

CREATE VIEW top_streamer_per_game AS
SELECT g.game_rank, g.game_name, s.user_login, s.user_name, s.viewer_count
FROM top_games AS g
JOIN top_stream_per_game AS s ON s.game_id = g.game_id;
