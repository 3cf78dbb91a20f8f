/**
 * Ids to rows, for the compact sets of `live_set.ts`: numeric ids in an
 * open-addressing table over typed arrays, the rare other id in a Map.
 *
 * @module
 */

/** A row whose id is a string (kept in a Map). */
export const STRING_ID = -1;
const DEAD = -2;

/** The number for an id that is a canonical decimal integer below 2^53, else -1. */
export function numeric(id: string): number {
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
export abstract class RowIndex {
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

  /** Rows in use, dead ones included: every row is below this. */
  protected get rowCount(): number {
    return this.#rows;
  }

  /** The id of `row`, or null when the row is dead. */
  protected idOfRow(row: number): string | null {
    const n = this.#ids[row];
    return n === DEAD ? null : n === STRING_ID ? this.#stringOf.get(row)! : String(n);
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
