-- Live Twitch streams in Materialize, read from the Kafka topic twitch-streams.
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

-- Example: the ten most watched live streams right now.
--   SELECT user_name, game_name, viewer_count
--   FROM live_streams ORDER BY viewer_count DESC LIMIT 10;
