import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { answersQuery, splitStatements, targetScript } from "./sql.ts";

const SCRIPT = await Deno.readTextFile(
  fileURLToPath(new URL("../../deploy/flink/twitch_streams.sql", import.meta.url)),
);

Deno.test("the shipped script is pointed at the given brokers and topic", () => {
  const script = targetScript(SCRIPT, { brokers: "a:1,b:2", topic: "it's", bounded: false });
  assert.match(script, /'properties\.bootstrap\.servers' = 'a:1,b:2'/);
  assert.match(script, /'topic' = 'it''s'/);
  assert.doesNotMatch(script, /kafka:9092|'twitch-streams'/);
  assert.doesNotMatch(script, /scan\.bounded\.mode|number-of-rows/);
});

Deno.test("a bounded script stops at the latest offsets and reads the clock once", () => {
  const script = targetScript(SCRIPT, { brokers: "k:9", topic: "t", bounded: true });
  assert.match(
    script,
    /'connector' = 'upsert-kafka',\n {2}'scan\.bounded\.mode' = 'latest-offset',/,
  );
  assert.match(script, /'connector' = 'datagen',\n {2}'number-of-rows' = '1',/);
});

Deno.test("a script that lost an option it is pointed through is refused", () => {
  assert.throws(
    () =>
      targetScript(SCRIPT.replace("'topic' = 'twitch-streams'", ""), {
        brokers: "k:9",
        topic: "t",
        bounded: false,
      }),
    /should contain 'topic' = 'twitch-streams' once, found it 0 times/,
  );
});

Deno.test("the script splits into its statements, comments dropped", () => {
  const statements = splitStatements(SCRIPT);
  assert.deepEqual(
    statements.map((s) => s.split("\n")[0].replace(/ \($| AS$/, "")),
    [
      "SET 'table.local-time-zone' = 'UTC'",
      "SET 'table.exec.mini-batch.enabled' = 'true'",
      "SET 'table.exec.mini-batch.allow-latency' = '500 ms'",
      "SET 'table.exec.mini-batch.size' = '5000'",
      "CREATE TABLE twitch_streams",
      "CREATE TABLE clock_ticks",
      "CREATE VIEW clock",
      "CREATE VIEW live_stream_count",
      "CREATE VIEW game_stats",
      "CREATE VIEW top_games",
      "CREATE VIEW started_last_15_min",
      "CREATE VIEW tag_stats",
      "CREATE VIEW top_tags",
      "CREATE VIEW top_stream_per_game",
      "CREATE VIEW top_streamer_per_game",
    ],
  );
  assert.ok(statements.every((s) => !s.includes("--") && !s.endsWith(";")));
});

Deno.test("the answers query reads every view the script defines for an answer", () => {
  const query = answersQuery();
  for (
    const view of [
      "clock",
      "live_stream_count",
      "top_games",
      "started_last_15_min",
      "top_tags",
      "top_streamer_per_game",
    ]
  ) {
    assert.match(query, new RegExp(`FROM ${view}$`, "m"));
    assert.match(SCRIPT, new RegExp(`CREATE VIEW ${view} AS`));
  }
  assert.equal(query.split("UNION ALL").length, 6);
});
