/**
 * What is live now, as a consumer of the topic sees it: the latest
 * acknowledged record of every key, with tombstones deleting keys. Kept as a
 * compact record per key (numbers, shared game and tag strings, a capped
 * title) and summarized on request into top-N lists, so that the scan pays
 * only for parsing the records it already produced, and a summary of
 * 100,000 streams stays a few kilobytes.
 *
 * @module
 */

import type { StreamRecord } from "../scan/record.ts";

/** The length a title or name is cut to on the page (Twitch's titles are at most 140). */
export const MAX_TEXT = 160;
/** How many entries each top list holds. */
export const TOP_N = 10;
/** A stream that started this recently counts as new. */
export const NEW_STREAM_MS = 15 * 60_000;

/** A game's live totals, one object per game id, kept as streams come and go. */
interface Game {
  id: string;
  name: string;
  viewers: number;
  streams: number;
}

/** What the page needs of one live stream. */
interface Entry {
  id: string;
  viewers: number;
  /** `started_at` as Helix writes it (RFC 3339 in UTC, seconds): such strings sort as times do. */
  startedAt: string;
  game: Game;
  title: string;
  channel: string;
  login: string;
  tags: readonly string[];
}

/** One stream on the page. */
export interface StreamRow {
  id: string;
  title: string;
  /** The display name. */
  channel: string;
  login: string;
  game: string;
  viewers: number;
  /** RFC 3339, as Helix wrote it. */
  startedAt: string;
  uptimeSeconds: number;
}

/** One game on the page. */
export interface GameRow {
  id: string;
  name: string;
  viewers: number;
  streams: number;
}

/** What is live now, in top-N lists. */
export interface LiveSummary {
  streams: number;
  viewers: number;
  topStreams: StreamRow[];
  topGamesByViewers: GameRow[];
  topGamesByStreams: GameRow[];
  newStreams: { count: number; latest: StreamRow[] };
  topTags: { tag: string; streams: number }[];
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * The live set after acknowledged writes. Totals per game and per tag are
 * kept as records arrive; the top streams and new streams are found in one
 * pass on request.
 */
export class LiveBoard {
  readonly #entries = new Map<string, Entry>();
  readonly #games = new Map<string, Game>();
  readonly #tags = new Map<string, number>();
  readonly #strings = new Map<string, string>();
  #viewers = 0;

  /** Live streams on the board. */
  get size(): number {
    return this.#entries.size;
  }

  /** Applies records the broker acknowledged, in order: a value sets its key, a tombstone deletes it. */
  acknowledged(records: readonly StreamRecord[]): void {
    for (const record of records) {
      const old = this.#entries.get(record.key);
      if (old !== undefined) this.#remove(old);
      const entry = record.value === null ? null : this.#entry(record.key, record.value);
      if (entry === null) this.#entries.delete(record.key);
      else {
        this.#entries.set(record.key, entry);
        this.#add(entry);
      }
    }
  }

  /** The display name of live stream `id`, or null. */
  channel(id: string): string | null {
    return this.#entries.get(id)?.channel ?? null;
  }

  /** Live streams of the channels in `logins` (lower case) and their viewers. */
  covered(logins: ReadonlySet<string>): { streams: number; viewers: number } {
    let streams = 0;
    let viewers = 0;
    if (logins.size === 0) return { streams, viewers };
    for (const entry of this.#entries.values()) {
      if (!logins.has(entry.login.toLowerCase())) continue;
      streams++;
      viewers += entry.viewers;
    }
    return { streams, viewers };
  }

  /** Forgets every stream (this instance no longer writes the topic). */
  clear(): void {
    this.#entries.clear();
    this.#games.clear();
    this.#tags.clear();
    this.#viewers = 0;
  }

  /** The live set in top-N lists, as of `now` (milliseconds since the epoch). */
  summary(now: number, top = TOP_N): LiveSummary {
    let fresh = 0;
    const since = rfc3339(now - NEW_STREAM_MS);
    const streams = new TopList<Entry>(top, byViewers);
    const latest = new TopList<Entry>(top, byStart);
    for (const entry of this.#entries.values()) {
      streams.offer(entry);
      if (entry.startedAt >= since) {
        fresh++;
        latest.offer(entry);
      }
    }
    const games = [...this.#games.values()];
    const row = (entry: Entry) => streamRow(entry, now);
    const gameRow = ({ id, name, viewers, streams }: Game) => ({ id, name, viewers, streams });
    return {
      streams: this.#entries.size,
      viewers: this.#viewers,
      topStreams: streams.sorted().map(row),
      topGamesByViewers: topOf(games, top, (a, b) => b.viewers - a.viewers || order(a.id, b.id))
        .map(gameRow),
      topGamesByStreams: topOf(games, top, (a, b) => b.streams - a.streams || order(a.id, b.id))
        .map(gameRow),
      newStreams: { count: fresh, latest: latest.sorted().map(row) },
      topTags: topOf(
        [...this.#tags].map(([tag, streams]) => ({ tag: cut(tag), streams })),
        top,
        (a, b) => b.streams - a.streams || order(a.tag, b.tag),
      ),
    };
  }

  #add(entry: Entry): void {
    this.#viewers += entry.viewers;
    entry.game.viewers += entry.viewers;
    entry.game.streams++;
    for (const tag of entry.tags) this.#tags.set(tag, (this.#tags.get(tag) ?? 0) + 1);
  }

  #remove(entry: Entry): void {
    this.#viewers -= entry.viewers;
    const game = entry.game;
    game.viewers -= entry.viewers;
    if (--game.streams === 0) this.#games.delete(game.id);
    for (const tag of entry.tags) {
      const left = this.#tags.get(tag)! - 1;
      if (left === 0) this.#tags.delete(tag);
      else this.#tags.set(tag, left);
    }
  }

  #entry(id: string, value: string): Entry | null {
    let stream: Record<string, unknown>;
    try {
      stream = JSON.parse(value);
    } catch {
      return null;
    }
    const viewers = stream.viewer_count;
    return {
      id,
      viewers: typeof viewers === "number" && Number.isFinite(viewers) ? viewers : 0,
      startedAt: typeof stream.started_at === "string" ? stream.started_at : "",
      game: this.#game(String(stream.game_id ?? ""), String(stream.game_name ?? "")),
      title: cut(String(stream.title ?? "")),
      channel: cut(String(stream.user_name ?? "")),
      login: cut(String(stream.user_login ?? "")),
      tags: Array.isArray(stream.tags) && stream.tags.length > 0
        ? [...new Set(stream.tags.map((tag) => this.#shared(String(tag))))]
        : NO_TAGS,
    };
  }

  /** The totals of game `id`; a renamed game takes its latest name. */
  #game(id: string, name: string): Game {
    const known = this.#games.get(id);
    if (known !== undefined) {
      if (known.name !== name) known.name = cut(name);
      return known;
    }
    const game = { id, name: cut(name), viewers: 0, streams: 0 };
    this.#games.set(id, game);
    return game;
  }

  #shared(text: string): string {
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    if (this.#strings.size < 100_000) this.#strings.set(text, text);
    return text;
  }
}

/** `text` cut to {@link MAX_TEXT} UTF-16 units, never inside a surrogate pair, marked with "…". */
export function cut(text: string): string {
  if (text.length <= MAX_TEXT) return text;
  let end = MAX_TEXT - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

function streamRow(entry: Entry, now: number): StreamRow {
  const startedAt = Date.parse(entry.startedAt);
  return {
    id: entry.id,
    title: entry.title,
    channel: entry.channel,
    login: entry.login,
    game: entry.game.name,
    viewers: entry.viewers,
    startedAt: entry.startedAt,
    uptimeSeconds: Number.isFinite(startedAt)
      ? Math.max(0, Math.floor((now - startedAt) / 1000))
      : 0,
  };
}

function byViewers(a: Entry, b: Entry): number {
  return b.viewers - a.viewers || order(a.id, b.id);
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byStart(a: Entry, b: Entry): number {
  return order(b.startedAt, a.startedAt) || byViewers(a, b);
}

/** Milliseconds since the epoch as Helix writes a time: `2026-12-03T12:00:00Z`. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + "Z";
}

function topOf<T>(items: T[], n: number, order: (a: T, b: T) => number): T[] {
  const list = new TopList(n, order);
  for (const item of items) list.offer(item);
  return list.sorted();
}

/** The first `n` items in `order` of everything offered: O(items) while n is small. */
class TopList<T> {
  readonly #items: T[] = [];
  constructor(readonly n: number, readonly order: (a: T, b: T) => number) {}

  offer(item: T): void {
    const items = this.#items;
    if (this.n <= 0) return;
    if (items.length === this.n && this.order(item, items[items.length - 1]) >= 0) return;
    let at = items.length;
    while (at > 0 && this.order(item, items[at - 1]) < 0) at--;
    items.splice(at, 0, item);
    if (items.length > this.n) items.pop();
  }

  sorted(): T[] {
    return [...this.#items];
  }
}
