/**
 * Compact sets of streams for a million live streams in a small heap. A
 * `Map<string, object>` costs about 220 bytes a stream (key string, map
 * entry, object, boxed numbers, strings) and every entry is one more thing
 * for the garbage collector to trace. Here ids and user ids are numbers
 * where they are canonical decimal integers (as Helix's are), start times
 * numbers, languages and categories indices into a table of distinct words,
 * and logins bytes in one buffer: all in typed arrays, about 60 bytes a
 * stream, invisible to the collector. Insertion order is kept, as a Map keeps it.
 *
 * @module
 */

import type { LiveStream } from "./record.ts";
import { numeric, RowIndex, STRING_ID } from "./row_index.ts";

/** A login that is not short ASCII lives in a side map. */
const LOGIN_ASIDE = 255;

/** A compact set of stream ids. */
export class IdSet extends RowIndex implements Iterable<string> {
  /** Adds `id`. */
  add(id: string): this {
    this.rowFor(id);
    return this;
  }

  /** The ids, in insertion order. */
  [Symbol.iterator](): IterableIterator<string> {
    return this.keys();
  }

  /** Bytes the set holds, near enough. */
  get bytes(): number {
    return this.indexBytes();
  }

  protected resize(): void {}
  protected move(): void {}
  protected forget(): void {}
  protected compacted(): void {}
}

/** A stream's viewer count is not known (a record rebuilt without `viewer_count`). */
const NO_VIEWERS = 0xffff_ffff;

/** The live streams: id to what later scans need, compactly. A drop-in for a Map. */
export class LiveSet extends RowIndex implements ReadonlyMap<string, LiveStream> {
  #userIds = new Float64Array(0);
  #userStrings = new Map<number, string>();
  #startedAt = new Float64Array(0);
  #language = new Uint32Array(0);
  #game = new Uint32Array(0);
  /** Viewers when last seen, or {@link NO_VIEWERS}. */
  #viewers = new Uint32Array(0);
  #words: string[] = [];
  #wordIndex = new Map<string, number>();
  #loginAt = new Uint32Array(0);
  #loginLength = new Uint8Array(0);
  #loginAside = new Map<number, string>();
  #bytes = new Uint8Array(1024);
  #used = 0;
  #deadBytes = 0;

  /** A set holding `entries` (a copy of another LiveSet's arrays when given one). */
  static from(entries: Iterable<[string, LiveStream]>): LiveSet {
    const set = new LiveSet();
    if (entries instanceof LiveSet) set.#copy(entries);
    else for (const [id, live] of entries) set.set(id, live);
    return set;
  }

  /** Bytes the set holds, near enough (the side maps of unusual ids and logins not counted). */
  get bytes(): number {
    return this.indexBytes() + this.#userIds.byteLength + this.#startedAt.byteLength +
      this.#language.byteLength + this.#game.byteLength + this.#viewers.byteLength +
      this.#loginAt.byteLength +
      this.#loginLength.byteLength + this.#bytes.byteLength;
  }

  /** The stream of `id`, as a new object. */
  get(id: string): LiveStream | undefined {
    const row = this.rowOf(id);
    return row < 0 ? undefined : this.#read(row);
  }

  /** Adds or replaces `id`; a replaced entry keeps its place, as in a Map. */
  set(id: string, live: LiveStream): this {
    const before = this.size;
    const row = this.rowFor(id);
    const fresh = this.size > before;
    const userId = numeric(live.userId);
    this.#userIds[row] = userId;
    if (userId < 0) this.#userStrings.set(row, live.userId);
    else this.#userStrings.delete(row);
    this.#startedAt[row] = live.startedAt;
    this.#language[row] = this.#word(live.language);
    this.#game[row] = this.#word(live.gameId);
    this.#viewers[row] = live.viewers === undefined
      ? NO_VIEWERS
      : Math.min(Math.max(0, Math.trunc(live.viewers)), NO_VIEWERS - 1);
    this.#writeLogin(row, live.userLogin, fresh);
    return this;
  }

  /** The user id of the stream `id` (no object built), or undefined. */
  userIdOf(id: string): string | undefined {
    const row = this.rowOf(id);
    return row < 0 ? undefined : this.#userId(row);
  }

  /**
   * The ids of `userId`'s streams, in insertion order: a pass over a typed array, no object
   * built per stream (an event's channel among a million live streams).
   */
  idsOfUser(userId: string): string[] {
    const rows: number[] = [];
    const n = numeric(userId);
    if (n < 0) {
      for (const [row, text] of this.#userStrings) if (text === userId) rows.push(row);
      rows.sort((a, b) => a - b);
    } else {
      const userIds = this.#userIds;
      for (let row = 0, end = this.rowCount; row < end; row++) {
        if (userIds[row] === n) rows.push(row);
      }
    }
    const ids: string[] = [];
    for (const row of rows) {
      const id = this.idOfRow(row);
      if (id !== null) ids.push(id);
    }
    return ids;
  }

  /** Removes every entry. */
  clear(): void {
    this.#copy(new LiveSet());
  }

  protected forget(row: number): void {
    this.#userStrings.delete(row);
    this.#loginAside.delete(row);
    this.#deadBytes += this.#loginLength[row] === LOGIN_ASIDE ? 0 : this.#loginLength[row];
  }

  /** The entries, in insertion order. */
  *entries(): MapIterator<[string, LiveStream]> {
    for (const [id, row] of this.rows()) yield [id, this.#read(row)];
  }

  /** The streams, in insertion order. */
  *values(): MapIterator<LiveStream> {
    for (const [, row] of this.rows()) yield this.#read(row);
  }

  /** The ids, in insertion order. */
  override keys(): MapIterator<string> {
    return super.keys() as MapIterator<string>;
  }

  /** Calls `fn` for each entry, in insertion order. */
  forEach(fn: (live: LiveStream, id: string, map: ReadonlyMap<string, LiveStream>) => void): void {
    for (const [id, live] of this.entries()) fn(live, id, this);
  }

  /** The entries, in insertion order. */
  [Symbol.iterator](): MapIterator<[string, LiveStream]> {
    return this.entries();
  }

  /** Shown as a Map by `console.log` and in test failures. */
  get [Symbol.toStringTag](): string {
    return "LiveSet";
  }

  protected resize(capacity: number, used: number): void {
    this.#userIds = grown(this.#userIds, new Float64Array(capacity), used);
    this.#startedAt = grown(this.#startedAt, new Float64Array(capacity), used);
    this.#language = grown(this.#language, new Uint32Array(capacity), used);
    this.#game = grown(this.#game, new Uint32Array(capacity), used);
    this.#viewers = grown(this.#viewers, new Uint32Array(capacity), used);
    this.#loginAt = grown(this.#loginAt, new Uint32Array(capacity), used);
    this.#loginLength = grown(this.#loginLength, new Uint8Array(capacity), used);
  }

  protected move(from: number, to: number): void {
    this.#userIds[to] = this.#userIds[from];
    this.#startedAt[to] = this.#startedAt[from];
    this.#language[to] = this.#language[from];
    this.#game[to] = this.#game[from];
    this.#viewers[to] = this.#viewers[from];
    this.#loginAt[to] = this.#loginAt[from];
    this.#loginLength[to] = this.#loginLength[from];
    moveKey(this.#userStrings, from, to);
    moveKey(this.#loginAside, from, to);
  }

  protected compacted(): void {
    // Rewrite the logins without the bytes of dead and replaced ones.
    const bytes = new Uint8Array(Math.max(1024, this.#used - this.#deadBytes));
    let used = 0;
    for (const [, row] of this.rows()) {
      const length = this.#loginLength[row];
      if (length === LOGIN_ASIDE) continue;
      const at = this.#loginAt[row];
      bytes.set(this.#bytes.subarray(at, at + length), used);
      this.#loginAt[row] = used;
      used += length;
    }
    this.#bytes = bytes;
    this.#used = used;
    this.#deadBytes = 0;
  }

  #copy(other: LiveSet): void {
    this.copyIndex(other);
    this.#userIds = other.#userIds.slice();
    this.#userStrings = new Map(other.#userStrings);
    this.#startedAt = other.#startedAt.slice();
    this.#language = other.#language.slice();
    this.#game = other.#game.slice();
    this.#viewers = other.#viewers.slice();
    this.#words = [...other.#words];
    this.#wordIndex = new Map(other.#wordIndex);
    this.#loginAt = other.#loginAt.slice();
    this.#loginLength = other.#loginLength.slice();
    this.#loginAside = new Map(other.#loginAside);
    this.#bytes = other.#bytes.slice();
    this.#used = other.#used;
    this.#deadBytes = other.#deadBytes;
  }

  #read(row: number): LiveStream {
    return {
      userId: this.#userId(row),
      startedAt: this.#startedAt[row],
      language: this.#words[this.#language[row]],
      gameId: this.#words[this.#game[row]],
      userLogin: this.#login(row),
      ...(this.#viewers[row] === NO_VIEWERS ? {} : { viewers: this.#viewers[row] }),
    };
  }

  #userId(row: number): string {
    const n = this.#userIds[row];
    return n === STRING_ID ? this.#userStrings.get(row)! : String(n);
  }

  /** Languages and categories repeat across many thousands of streams: one copy of each. */
  #word(text: string): number {
    let index = this.#wordIndex.get(text);
    if (index === undefined) {
      index = this.#words.length;
      this.#words.push(text);
      this.#wordIndex.set(text, index);
    }
    return index;
  }

  #writeLogin(row: number, login: string, fresh: boolean): void {
    if (!fresh && !this.#loginAside.delete(row)) this.#deadBytes += this.#loginLength[row];
    const n = login.length;
    let ascii = n < LOGIN_ASIDE;
    for (let i = 0; ascii && i < n; i++) ascii = login.charCodeAt(i) < 128;
    if (!ascii) {
      this.#loginLength[row] = LOGIN_ASIDE;
      this.#loginAside.set(row, login);
      return;
    }
    if (this.#used + n > this.#bytes.length) {
      const bytes = new Uint8Array(Math.max(this.#bytes.length * 1.5, this.#used + n) | 0);
      bytes.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = bytes;
    }
    for (let i = 0; i < n; i++) this.#bytes[this.#used + i] = login.charCodeAt(i);
    this.#loginAt[row] = this.#used;
    this.#loginLength[row] = n;
    this.#used += n;
  }

  #login(row: number): string {
    const length = this.#loginLength[row];
    if (length === LOGIN_ASIDE) return this.#loginAside.get(row)!;
    const at = this.#loginAt[row];
    return String.fromCharCode(...this.#bytes.subarray(at, at + length));
  }
}

function grown<T extends Float64Array | Uint32Array | Uint8Array>(
  old: T,
  next: T,
  used: number,
): T {
  next.set(old.subarray(0, used) as never);
  return next;
}

function moveKey(map: Map<number, string>, from: number, to: number): void {
  const value = map.get(from);
  if (value === undefined) return;
  map.delete(from);
  map.set(to, value);
}
