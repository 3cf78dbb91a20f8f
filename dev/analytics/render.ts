/**
 * The answers as a terminal shows them: four short tables.
 *
 * @module
 */

import type { Answers } from "./answers.ts";

function table(headers: string[], rows: (string | number)[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) =>
    row.map((cell, i) =>
      typeof rows[0]?.[i] === "number" ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
    ).join("  ").trimEnd()
  );
}

/** The answers as lines of text, headed by the topic they were read from. */
export function renderAnswers(answers: Answers, source: string): string {
  const lines = [
    `Live Twitch streams in ${source}, answered by Flink SQL (as of ${answers.as_of ?? "-"})`,
    "",
    `Live streams: ${answers.live_streams}`,
    "",
    "Top games by streams",
    ...table(
      ["game", "streams", "viewers"],
      answers.top_games.map((g) => [g.game_name, g.streams, g.viewers]),
    ),
    "",
    "Most watched streamer in each top game",
    ...table(
      ["game", "streamer", "viewers"],
      answers.top_streamer_per_game.map((s) => [s.game_name, s.user_name, s.viewer_count]),
    ),
    "",
    "Top tags",
    ...table(["tag", "streams"], answers.top_tags.map((t) => [t.tag, t.streams])),
    "",
    `Started in the last 15 minutes: ${answers.started_last_15_min.length}`,
    ...table(
      ["started", "streamer", "game"],
      answers.started_last_15_min.slice(0, 10).map((s) => [
        s.started_at,
        s.user_name,
        s.game_name,
      ]),
    ),
  ];
  return lines.join("\n");
}
