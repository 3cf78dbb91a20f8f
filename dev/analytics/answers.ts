/**
 * The four questions' answers: folded from Flink's changelog (what
 * `deno task analytics` shows), and computed directly from a list of live
 * streams (what the tests hold Flink's answers against). Both end in the same
 * shape and the same order, so the two can be compared exactly.
 *
 * @module
 */

import type { HelixStream } from "../../src/helix/stream.ts";
import { ANSWER_NAMES, type AnswerName } from "./sql.ts";

/** A game among the ten with the most streams. */
export interface TopGame {
  game_name: string;
  streams: number;
  viewers: number;
}

/** A stream that started in the last 15 minutes. */
export interface RecentStream {
  id: string;
  user_login: string;
  user_name: string;
  game_name: string;
  started_at: string;
}

/** A tag among the ten used by the most streams. */
export interface TopTag {
  tag: string;
  streams: number;
}

/** The most watched stream of one of the top ten games. */
export interface TopStreamer {
  game_name: string;
  user_login: string;
  user_name: string;
  viewer_count: number;
}

/** The four answers, and the clock reading the time-bound one was judged by. */
export interface Answers {
  /** ISO 8601 time of the clock reading "the last 15 minutes" counts back from. */
  as_of: string | null;
  live_streams: number;
  top_games: TopGame[];
  started_last_15_min: RecentStream[];
  top_tags: TopTag[];
  top_streamer_per_game: TopStreamer[];
}

/** How far back "started recently" reaches. */
export const RECENT_MS = 15 * 60_000;
const TOP = 10;

/** Folds changelog rows into the rows they leave: a multiset per answer. */
export class ChangelogFold {
  #rows = new Map<AnswerName, Map<string, number>>(
    ANSWER_NAMES.map((name) => [name, new Map()]),
  );

  /** Applies one `[kind, answer, row JSON]` line; false when the line is not one. */
  apply(line: unknown): boolean {
    if (!Array.isArray(line) || line.length !== 3) return false;
    const [kind, name, row] = line;
    const rows = this.#rows.get(name);
    if (rows === undefined || typeof row !== "string") return false;
    const count = rows.get(row) ?? 0;
    if (kind === "+I" || kind === "+U") rows.set(row, count + 1);
    else if (kind === "-U" || kind === "-D") {
      if (count <= 0) throw new Error(`Flink retracted a row it never sent: ${name} ${row}`);
      if (count === 1) rows.delete(row);
      else rows.set(row, count - 1);
    } else return false;
    return true;
  }

  /** The rows of one answer now, parsed. */
  rows(name: AnswerName): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [row, count] of this.#rows.get(name)!) {
      for (let i = 0; i < count; i++) out.push(JSON.parse(row));
    }
    return out;
  }

  /** The answers as the folded rows say now. */
  answers(): Answers {
    const byRank = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      Number(a.rank) - Number(b.rank);
    const pick = <K extends string>(row: Record<string, unknown>, keys: readonly K[]) =>
      Object.fromEntries(keys.map((key) => [key, row[key]])) as Record<K, never>;
    const count = this.rows("live_streams")[0]?.live_streams;
    return {
      as_of: (this.rows("as_of")[0]?.now as string | undefined) ?? null,
      live_streams: typeof count === "number" ? count : 0,
      top_games: this.rows("top_games").sort(byRank).map((row) =>
        pick(row, ["game_name", "streams", "viewers"] as const)
      ),
      started_last_15_min: sortRecent(
        this.rows("started_last_15_min").map((row) =>
          pick(row, ["id", "user_login", "user_name", "game_name", "started_at"] as const)
        ),
      ),
      top_tags: this.rows("top_tags").sort(byRank).map((row) =>
        pick(row, ["tag", "streams"] as const)
      ),
      top_streamer_per_game: this.rows("top_streamer_per_game").sort(byRank).map((row) =>
        pick(row, ["game_name", "user_login", "user_name", "viewer_count"] as const)
      ),
    };
  }
}

/** Newest first, then by id: the order both sides show recent streams in. */
function sortRecent(rows: RecentStream[]): RecentStream[] {
  return rows.sort((a, b) =>
    a.started_at === b.started_at ? compare(a.id, b.id) : compare(b.started_at, a.started_at)
  );
}

/** Code-unit order, as Flink compares strings (and as `<` does for our ASCII-safe keys). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The four answers computed directly from the live streams, by the rules the
 * Flink views follow (ties and all), as of `now` (milliseconds).
 */
export function answersFromStreams(streams: readonly HelixStream[], now: number): Answers {
  const games = new Map<
    string,
    { game_id: string; game_name: string; streams: number; viewers: number; top: HelixStream }
  >();
  const tags = new Map<string, Set<string>>();
  for (const s of streams) {
    if (s.game_id !== "") {
      const key = `${s.game_id}\u0000${s.game_name}`;
      const game = games.get(key);
      if (game === undefined) {
        games.set(key, {
          game_id: s.game_id,
          game_name: s.game_name,
          streams: 1,
          viewers: s.viewer_count,
          top: s,
        });
      } else {
        game.streams++;
        game.viewers += s.viewer_count;
        if (
          s.viewer_count > game.top.viewer_count ||
          (s.viewer_count === game.top.viewer_count && compare(s.id, game.top.id) < 0)
        ) game.top = s;
      }
    }
    for (const tag of s.tags ?? []) {
      let ids = tags.get(tag);
      if (ids === undefined) tags.set(tag, ids = new Set());
      ids.add(s.id);
    }
  }
  const topGames = [...games.values()]
    .sort((a, b) =>
      b.streams - a.streams || b.viewers - a.viewers || compare(a.game_name, b.game_name)
    )
    .slice(0, TOP);
  const since = now - RECENT_MS;
  return {
    as_of: new Date(now).toISOString(),
    live_streams: streams.length,
    top_games: topGames.map(({ game_name, streams, viewers }) => ({ game_name, streams, viewers })),
    started_last_15_min: sortRecent(
      streams.filter((s) => Date.parse(s.started_at) > since).map((s) => ({
        id: s.id,
        user_login: s.user_login,
        user_name: s.user_name,
        game_name: s.game_name,
        started_at: s.started_at,
      })),
    ),
    top_tags: [...tags].map(([tag, ids]) => ({ tag, streams: ids.size }))
      .sort((a, b) => b.streams - a.streams || compare(a.tag, b.tag))
      .slice(0, TOP),
    top_streamer_per_game: topGames.map(({ game_name, top }) => ({
      game_name,
      user_login: top.user_login,
      user_name: top.user_name,
      viewer_count: top.viewer_count,
    })),
  };
}
