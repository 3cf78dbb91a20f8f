-- Live Twitch streams in Materialize, read from the Kafka topic twitch-streams, and the
-- original design's four questions as views (the same ones deploy/flink/ answers with Flink).
--
-- Not run here: Materialize cannot run where this project is tested. The syntax follows
-- Materialize's documentation (CREATE CONNECTION ... TO KAFKA; CREATE SOURCE ... FROM KAFKA
-- CONNECTION with KEY FORMAT TEXT, VALUE FORMAT JSON and ENVELOPE UPSERT; mz_now() temporal
-- filters). The Flink twin of this file is run and checked against the simulator in CI.
--
-- Each record is keyed by stream id and carries the Helix stream object as JSON;
-- a record with a null value (tombstone) means the stream ended. ENVELOPE UPSERT
-- keeps only the latest value per key and deletes the row on a tombstone.
--
-- Every statement is idempotent, so the script can be re-run until the topic
-- exists (CREATE SOURCE fails while it does not).

CREATE CONNECTION IF NOT EXISTS kafka_connection TO KAFKA (
    BROKER 'kafka:9092',
    SECURITY PROTOCOL = 'PLAINTEXT'
);

-- KEY FORMAT TEXT gives a text column "key"; VALUE FORMAT JSON gives a jsonb
-- column "data".
CREATE SOURCE IF NOT EXISTS twitch_streams_raw
    FROM KAFKA CONNECTION kafka_connection (TOPIC 'twitch-streams')
    KEY FORMAT TEXT
    VALUE FORMAT JSON
    ENVELOPE UPSERT;

-- IF NOT EXISTS rather than OR REPLACE: a view that live_streams depends on
-- cannot be replaced.
CREATE VIEW IF NOT EXISTS twitch_streams AS
SELECT
    key AS id,
    data ->> 'user_id' AS user_id,
    data ->> 'user_login' AS user_login,
    data ->> 'user_name' AS user_name,
    data ->> 'game_id' AS game_id,
    data ->> 'game_name' AS game_name,
    data ->> 'type' AS "type",
    data ->> 'title' AS title,
    data -> 'tags' AS tags,
    (data ->> 'viewer_count')::int AS viewer_count,
    (data ->> 'started_at')::timestamptz AS started_at,
    data ->> 'language' AS "language",
    data ->> 'thumbnail_url' AS thumbnail_url,
    (data ->> 'is_mature')::bool AS is_mature
FROM twitch_streams_raw;

-- A broadcast lasts at most 48 hours, and Helix never says when a stream ended
-- unless the generator saw it go: the temporal filter drops a stream from state
-- 48 hours after it started, even if its tombstone never arrived.
CREATE MATERIALIZED VIEW IF NOT EXISTS live_streams AS
SELECT *
FROM twitch_streams
WHERE mz_now() <= started_at + INTERVAL '48 hours';

-- How many streams are live.
CREATE MATERIALIZED VIEW IF NOT EXISTS live_stream_count AS
SELECT count(*) AS live_streams FROM live_streams;

-- Question 1: the most popular games, by stream count and total viewers.
CREATE VIEW IF NOT EXISTS game_stats AS
SELECT game_id, game_name, count(*) AS streams, sum(viewer_count) AS viewers
FROM live_streams
WHERE game_id <> ''
GROUP BY game_id, game_name;

CREATE MATERIALIZED VIEW IF NOT EXISTS top_games AS
SELECT game_id, game_name, streams, viewers
FROM game_stats
ORDER BY streams DESC, viewers DESC, game_name
LIMIT 10;

-- Question 2: streams that started in the last 15 minutes. A temporal filter: mz_now()
-- moves on, so a stream leaves the view 15 minutes after it started, with no new record.
CREATE MATERIALIZED VIEW IF NOT EXISTS started_last_15_min AS
SELECT id, user_login, user_name, game_name, started_at
FROM live_streams
WHERE mz_now() < started_at + INTERVAL '15 minutes';

-- Question 3: the tags used most, counted in streams.
CREATE MATERIALIZED VIEW IF NOT EXISTS top_tags AS
SELECT tag, count(DISTINCT id) AS streams
FROM live_streams, jsonb_array_elements_text(tags) AS t(tag)
GROUP BY tag
ORDER BY streams DESC, tag
LIMIT 10;

-- Question 4: the most watched streamer in each of the top 10 games (top 1 per group with
-- DISTINCT ON; ties go to the lower stream id).
CREATE MATERIALIZED VIEW IF NOT EXISTS top_streamer_per_game AS
SELECT DISTINCT ON (s.game_id)
    g.game_name, s.user_login, s.user_name, s.viewer_count
FROM live_streams AS s
JOIN top_games AS g ON g.game_id = s.game_id
ORDER BY s.game_id, s.viewer_count DESC, s.id;

-- Example: the ten most watched live streams right now.
--   SELECT user_name, game_name, viewer_count
--   FROM live_streams ORDER BY viewer_count DESC LIMIT 10;
