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

const STRING_ID = -1;
const DEAD = -2;
/** A login that is not short ASCII lives in a side map. */
const LOGIN_ASIDE = 255;

/** The number for an id that is a canonical decimal integer below 2^53, else -1. */
function numeric(id: string): number {
  const n = id.length;
  if (n === 0 || n > 15 || (n > 1 && id.charCodeAt(0) === 48)) return -1;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return Number(id);
}

function hash(n: number): number {
  let h = Math.imul((n >>> 0) ^ Math.imul((n / 4294967296) >>> 0, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 13);
}

/**
 * Ids to rows: an open-addressing table over numeric ids, a Map for the
 * rare id that is not numeric. Rows are kept in insertion order; a removed
 * row is marked dead and the rows are compacted once half are dead.
 */
abstract class RowIndex {
  /** Per row: the numeric id, {@link STRING_ID} or {@link DEAD}. */
  #ids = new Float64Array(0);
  #byString = new Map<string, number>();
  #stringOf = new Map<number, string>();
  /** Row + 1 per slot, 0 when empty; linear probing. */
  #slots = new Int32Array(16);
  #rows = 0;
  #dead = 0;

  /** Live entries. */
  get size(): number {
    return this.#rows - this.#dead;
  }

  /** Bytes held by the typed arrays (the Maps of non-numeric ids not counted). */
  protected indexBytes(): number {
    return this.#ids.byteLength + this.#slots.byteLength;
  }

  /** Grows or shrinks the subclass's columns to `capacity` rows, keeping rows below `used`. */
  protected abstract resize(capacity: number, used: number): void;
  /** Copies row `from` to row `to` (`to` < `from`) in the subclass's columns. */
  protected abstract move(from: number, to: number): void;
  /** Forgets what the subclass holds for a row that died. */
  protected abstract forget(row: number): void;
  /** Called after a compaction. */
  protected abstract compacted(): void;

  /** The row of `id`, or -1. */
  protected rowOf(id: string): number {
    const n = numeric(id);
    if (n < 0) return this.#byString.get(id) ?? -1;
    const slot = this.#find(n);
    return slot < 0 ? -1 : this.#slots[slot] - 1;
  }

  /** The row of `id`, added at the end when it is new. */
  protected rowFor(id: string): number {
    const n = numeric(id);
    if (n < 0) {
      const row = this.#byString.get(id);
      if (row !== undefined) return row;
      const added = this.#append(STRING_ID);
      this.#byString.set(id, added);
      this.#stringOf.set(added, id);
      return added;
    }
    const slot = this.#find(n);
    if (slot >= 0) return this.#slots[slot] - 1;
    const row = this.#append(n);
    this.#slots[this.#find(n) ^ -1] = row + 1;
    return row;
  }

  /** Removes `id`; whether it was there. */
  delete(id: string): boolean {
    const n = numeric(id);
    let row: number;
    if (n < 0) {
      const found = this.#byString.get(id);
      if (found === undefined) return false;
      row = found;
      this.#byString.delete(id);
      this.#stringOf.delete(row);
    } else {
      const slot = this.#find(n);
      if (slot < 0) return false;
      row = this.#slots[slot] - 1;
      this.#unslot(slot);
    }
    this.#ids[row] = DEAD;
    this.forget(row);
    this.#dead++;
    if (this.#dead > 1024 && this.#dead * 2 > this.#rows) this.#compact();
    return true;
  }

  /** Whether `id` is in the set. */
  has(id: string): boolean {
    return this.rowOf(id) >= 0;
  }

  /** The live rows in insertion order, with their ids. */
  protected *rows(): IterableIterator<[string, number]> {
    for (let row = 0; row < this.#rows; row++) {
      const n = this.#ids[row];
      if (n === DEAD) continue;
      yield [n === STRING_ID ? this.#stringOf.get(row)! : String(n), row];
    }
  }

  /** The ids, in insertion order. */
  *keys(): IterableIterator<string> {
    for (const [id] of this.rows()) yield id;
  }

  /** Makes this index a copy of `other`'s (the subclass copies its columns). */
  protected copyIndex(other: RowIndex): void {
    this.#ids = other.#ids.slice();
    this.#byString = new Map(other.#byString);
    this.#stringOf = new Map(other.#stringOf);
    this.#slots = other.#slots.slice();
    this.#rows = other.#rows;
    this.#dead = other.#dead;
  }

  #find(n: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = hash(n) & mask;; i = (i + 1) & mask) {
      const row = slots[i];
      if (row === 0) return i ^ -1;
      if (this.#ids[row - 1] === n) return i;
    }
  }

  #append(n: number): number {
    if (this.#rows === this.#ids.length) {
      if (this.#dead * 4 > this.#rows) this.#compact();
      if (this.#rows === this.#ids.length) {
        const capacity = Math.max(64, Math.ceil(this.#ids.length * 1.5));
        const ids = new Float64Array(capacity);
        ids.set(this.#ids.subarray(0, this.#rows));
        this.#ids = ids;
        this.resize(capacity, this.#rows);
        if (this.#slots.length < capacity * 2) this.#reslot(capacity * 2);
      }
    }
    this.#ids[this.#rows] = n;
    return this.#rows++;
  }

  /** Backward-shift deletion: no tombstones in the slot table. */
  #unslot(slot: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let hole = slot;
    for (let j = (hole + 1) & mask;; j = (j + 1) & mask) {
      const row = slots[j];
      if (row === 0) break;
      const home = hash(this.#ids[row - 1]) & mask;
      // The entry at j may fill the hole when its home is not cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        slots[hole] = row;
        hole = j;
      }
    }
    slots[hole] = 0;
  }

  #reslot(size: number): void {
    let length = 16;
    while (length < size) length *= 2;
    this.#slots = new Int32Array(length);
    for (let row = 0; row < this.#rows; row++) {
      const n = this.#ids[row];
      if (n >= 0) this.#slots[this.#find(n) ^ -1] = row + 1;
    }
  }

  #compact(): void {
    let to = 0;
    const stringOf = new Map<number, string>();
    for (let from = 0; from < this.#rows; from++) {
      const n = this.#ids[from];
      if (n === DEAD) continue;
      if (from !== to) {
        this.#ids[to] = n;
        this.move(from, to);
      }
      if (n === STRING_ID) {
        const id = this.#stringOf.get(from)!;
        stringOf.set(to, id);
        this.#byString.set(id, to);
      }
      to++;
    }
    this.#stringOf = stringOf;
    this.#rows = to;
    this.#dead = 0;
    this.#reslot(this.#slots.length);
    this.compacted();
  }
}

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

/** The live streams: id to what later scans need, compactly. A drop-in for a Map. */
export class LiveSet extends RowIndex implements ReadonlyMap<string, LiveStream> {
  #userIds = new Float64Array(0);
  #userStrings = new Map<number, string>();
  #startedAt = new Float64Array(0);
  #language = new Uint32Array(0);
  #game = new Uint32Array(0);
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
      this.#language.byteLength + this.#game.byteLength + this.#loginAt.byteLength +
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
    this.#writeLogin(row, live.userLogin, fresh);
    return this;
  }

  /** The user id of the stream `id` (no object built), or undefined. */
  userIdOf(id: string): string | undefined {
    const row = this.rowOf(id);
    return row < 0 ? undefined : this.#userId(row);
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
    this.#loginAt = grown(this.#loginAt, new Uint32Array(capacity), used);
    this.#loginLength = grown(this.#loginLength, new Uint8Array(capacity), used);
  }

  protected move(from: number, to: number): void {
    this.#userIds[to] = this.#userIds[from];
    this.#startedAt[to] = this.#startedAt[from];
    this.#language[to] = this.#language[from];
    this.#game[to] = this.#game[from];
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
