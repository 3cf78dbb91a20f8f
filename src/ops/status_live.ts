/**
 * What is live now, as a consumer of the topic sees it: the latest
 * acknowledged record of every key, with tombstones deleting keys.
 *
 * It must sit beside the service's own live state in a 128 MB heap, so a
 * stream is a slot in typed arrays (viewers, start, game, watched) and a
 * short string coding its tags, under 100 bytes with its map entry. Games and tags are shared tables
 * with their totals kept as records arrive. Text (title, names) is kept only
 * for streams that can reach the page: the 100 biggest and those that
 * started lately. A stream that climbs into the top 10 between two of its
 * records shows its text from its next record on.
 *
 * @module
 */

import type { StreamRecord } from "../scan/record.ts";
import { GameTable, TagTable } from "./status_tables.ts";

/** The length a title or name is cut to on the page (Twitch's titles are at most 140). */
export const MAX_TEXT = 160;
/** How many entries each top list holds. */
export const TOP_N = 10;
/** A stream that started this recently counts as new. */
export const NEW_STREAM_MS = 15 * 60_000;
/** Streams this far down by viewers still keep their text, as candidates for the top 10. */
const TEXT_RANK = 100;
/** Streams this new keep their text (new streams, with a margin for a late summary). */
const TEXT_AGE_S = (NEW_STREAM_MS + 5 * 60_000) / 1000;

/** One stream on the page. */
export interface StreamRow {
  id: string;
  title: string;
  /** The display name. */
  channel: string;
  login: string;
  game: string;
  viewers: number;
  /** RFC 3339 in UTC, whole seconds. */
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

interface Text {
  title: string;
  channel: string;
  login: string;
}

/** The live set after acknowledged writes, summarized on request. */
export class LiveBoard {
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  #ids: (string | undefined)[] = [];
  #viewers = new Int32Array(1024);
  /** `started_at` in seconds since the epoch. */
  #started = new Int32Array(1024);
  #game = new Int32Array(1024);
  /** Each slot's tags, coded by the tag table. */
  #tags: string[] = [];
  #watched = new Uint8Array(1024);
  readonly #text = new Map<number, Text>();
  readonly #games = new GameTable();
  readonly #tagTable = new TagTable();
  readonly #isWatched: ((userId: string, login: string) => boolean) | null;
  #total = 0;
  /** Viewers a stream needs to keep its text. */
  #textFloor = 0;
  #sinceFloor = 0;

  /**
   * `watched`: the logins followed over EventSub, or whether a channel (user id, login) is
   * followed, asked as each of its records arrives; for {@link covered}.
   */
  constructor(watched: Iterable<string> | ((userId: string, login: string) => boolean) = []) {
    if (typeof watched === "function") {
      this.#isWatched = watched;
    } else {
      const logins = new Set([...watched].map((l) => l.toLowerCase()));
      this.#isWatched = logins.size === 0 ? null : (_, login) => logins.has(login.toLowerCase());
    }
  }

  /** Live streams on the board. */
  get size(): number {
    return this.#slots.size;
  }

  /** Applies records the broker acknowledged, in order: a value sets its key, a tombstone deletes it. */
  acknowledged(records: readonly StreamRecord[]): void {
    for (const record of records) {
      const stream = record.value === null ? null : parse(record.value);
      if (stream === null) this.#delete(record.key);
      else this.#set(record.key, stream, Math.floor(record.timestamp / 1000));
    }
    // About twice a scan, the floor follows the live set.
    this.#sinceFloor += records.length;
    if (this.#sinceFloor * 2 >= this.#slots.size) this.#updateFloor();
  }

  /** The display name of live stream `id`, or null when unknown. */
  channel(id: string): string | null {
    const slot = this.#slots.get(id);
    return slot === undefined ? null : this.#text.get(slot)?.channel ?? null;
  }

  /** Live streams of the watched channels and their viewers. */
  covered(): { streams: number; viewers: number } {
    let streams = 0;
    let viewers = 0;
    if (this.#isWatched === null) return { streams, viewers };
    for (const slot of this.#slots.values()) {
      if (this.#watched[slot] === 0) continue;
      streams++;
      viewers += this.#viewers[slot];
    }
    return { streams, viewers };
  }

  /** Forgets every stream (this instance no longer writes the topic). */
  clear(): void {
    for (const id of [...this.#slots.keys()]) this.#delete(id);
  }

  /** The live set in top-N lists, as of `now` (milliseconds since the epoch). */
  summary(now: number, top = TOP_N): LiveSummary {
    let fresh = 0;
    const since = Math.floor((now - NEW_STREAM_MS) / 1000);
    const viewers = this.#viewers;
    const started = this.#started;
    const ids = this.#ids as string[];
    const byViewers = (a: number, b: number) => viewers[b] - viewers[a] || order(ids[a], ids[b]);
    const streams = new TopList<number>(top, byViewers);
    const latest = new TopList<number>(top, (a, b) => started[b] - started[a] || byViewers(a, b));
    for (const slot of this.#slots.values()) {
      streams.offer(slot);
      if (started[slot] >= since) {
        fresh++;
        latest.offer(slot);
      }
    }
    const games = this.#games.rows();
    const row = (slot: number) => this.#row(slot, now);
    return {
      streams: this.#slots.size,
      viewers: this.#total,
      topStreams: streams.sorted().map(row),
      topGamesByViewers: topOf(games, top, (a, b) => b.viewers - a.viewers || order(a.id, b.id)),
      topGamesByStreams: topOf(games, top, (a, b) => b.streams - a.streams || order(a.id, b.id)),
      newStreams: { count: fresh, latest: latest.sorted().map(row) },
      topTags: topOf(
        this.#tagTable.counts().map(([tag, streams]) => ({ tag: cut(tag), streams })),
        top,
        (a, b) => b.streams - a.streams || order(a.tag, b.tag),
      ),
    };
  }

  #set(id: string, stream: Record<string, unknown>, at: number): void {
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      slot = this.#allocate(id);
      this.#slots.set(id, slot);
    } else this.#release(slot);
    const viewers = typeof stream.viewer_count === "number" && stream.viewer_count >= 0
      ? Math.min(stream.viewer_count, 2 ** 31 - 1) | 0
      : 0;
    const startedMs = typeof stream.started_at === "string" ? Date.parse(stream.started_at) : NaN;
    const started = Number.isFinite(startedMs) ? Math.floor(startedMs / 1000) : 0;
    const login = String(stream.user_login ?? "");
    this.#viewers[slot] = viewers;
    this.#started[slot] = started;
    this.#game[slot] = this.#games.add(
      String(stream.game_id ?? ""),
      String(stream.game_name ?? ""),
      viewers,
    );
    this.#tags[slot] = this.#tagTable.add(Array.isArray(stream.tags) ? stream.tags : []);
    this.#watched[slot] = this.#isWatched?.(String(stream.user_id ?? ""), login) ? 1 : 0;
    this.#total += viewers;
    if (viewers >= this.#textFloor || started >= at - TEXT_AGE_S) {
      this.#text.set(slot, {
        title: cut(String(stream.title ?? "")),
        channel: cut(String(stream.user_name ?? "")),
        login: cut(login),
      });
    }
  }

  #delete(id: string): void {
    const slot = this.#slots.get(id);
    if (slot === undefined) return;
    this.#release(slot);
    this.#slots.delete(id);
    this.#ids[slot] = undefined;
    this.#free.push(slot);
  }

  /** Takes a slot's stream out of every total. */
  #release(slot: number): void {
    const viewers = this.#viewers[slot];
    this.#total -= viewers;
    this.#games.remove(this.#game[slot], viewers);
    this.#tagTable.remove(this.#tags[slot]);
    this.#tags[slot] = "";
    this.#text.delete(slot);
  }

  #allocate(id: string): number {
    const slot = this.#free.pop() ?? this.#ids.length;
    this.#ids[slot] = id;
    if (slot >= this.#viewers.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const bigger = new (a.constructor as { new (n: number): T })(a.length * 2);
        bigger.set(a);
        return bigger;
      };
      this.#viewers = grow(this.#viewers);
      this.#started = grow(this.#started);
      this.#game = grow(this.#game);
      this.#watched = grow(this.#watched);
    }
    return slot;
  }

  /** The viewers of the {@link TEXT_RANK}th biggest stream: streams below keep no text. */
  #updateFloor(): void {
    this.#sinceFloor = 0;
    const floor = new TopList<number>(TEXT_RANK, (a, b) => b - a);
    for (const slot of this.#slots.values()) floor.offer(this.#viewers[slot]);
    const ranked = floor.sorted();
    this.#textFloor = ranked.length < TEXT_RANK ? 0 : ranked[ranked.length - 1];
  }

  #row(slot: number, now: number): StreamRow {
    const text = this.#text.get(slot);
    const started = this.#started[slot];
    return {
      id: this.#ids[slot]!,
      title: text?.title ?? "",
      channel: text?.channel ?? "",
      login: text?.login ?? "",
      game: this.#games.name(this.#game[slot]),
      viewers: this.#viewers[slot],
      startedAt: new Date(started * 1000).toISOString().slice(0, 19) + "Z",
      uptimeSeconds: Math.max(0, Math.floor(now / 1000) - started),
    };
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

function parse(value: string): Record<string, unknown> | null {
  try {
    const stream = JSON.parse(value);
    return stream !== null && typeof stream === "object" ? stream : null;
  } catch {
    return null;
  }
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function topOf<T>(items: T[], n: number, by: (a: T, b: T) => number): T[] {
  const list = new TopList(n, by);
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
