/**
 * The shared tables of the status board: games and tags, each entry
 * counted by the streams that use it and freed when none does, so that a
 * service running for weeks keeps only what is live.
 *
 * @module
 */

/** A game's live totals. */
export interface GameTotals {
  id: string;
  name: string;
  viewers: number;
  streams: number;
}

/** Games by index, with their live totals. */
export class GameTable {
  readonly #index = new Map<string, number>();
  readonly #games: (GameTotals | null)[] = [];
  readonly #free: number[] = [];

  /** Counts a stream of game `id` with `viewers`; a renamed game takes its latest name. */
  add(id: string, name: string, viewers: number): number {
    let at = this.#index.get(id);
    if (at === undefined) {
      at = this.#free.pop() ?? this.#games.length;
      this.#games[at] = { id, name, viewers: 0, streams: 0 };
      this.#index.set(id, at);
    }
    const game = this.#games[at]!;
    if (game.name !== name) game.name = name;
    game.viewers += viewers;
    game.streams++;
    return at;
  }

  /** Takes a stream with `viewers` off game `at`. */
  remove(at: number, viewers: number): void {
    const game = this.#games[at]!;
    game.viewers -= viewers;
    if (--game.streams > 0) return;
    this.#index.delete(game.id);
    this.#games[at] = null;
    this.#free.push(at);
  }

  /** The name of game `at`. */
  name(at: number): string {
    return this.#games[at]?.name ?? "";
  }

  /** Every game with live streams, as plain rows. */
  rows(): GameTotals[] {
    const rows: GameTotals[] = [];
    for (const game of this.#games) if (game !== null) rows.push({ ...game });
    return rows;
  }
}

/** The last tag id that has a code point (the surrogates skipped). */
const MAX_TAG_ID = 0x10ffff - 0x800;

/**
 * Tags by id, with the live streams of each. A stream's tags are kept as a
 * short string of one code point per tag id: a few bytes a stream, where an
 * array of strings would take a hundred.
 */
export class TagTable {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];
  /** Each id's character in a code. */
  readonly #chars: string[] = [];
  readonly #counts: number[] = [];
  readonly #free: number[] = [];

  /** Counts a stream with `tags` (duplicates count once); the code of its tags. */
  add(tags: readonly unknown[]): string {
    let code = "";
    for (const value of tags) {
      const tag = String(value);
      let id = this.#ids.get(tag);
      if (id === undefined) {
        id = this.#free.pop() ?? this.#names.length;
        // Past the last code point, a new tag goes uncounted until an id is free again.
        if (id > MAX_TAG_ID) continue;
        this.#ids.set(tag, id);
        this.#names[id] = tag;
        this.#counts[id] = 0;
        // Code points skip the surrogate range, so that every id is one whole character.
        this.#chars[id] ??= String.fromCodePoint(id < 0xd800 ? id : id + 0x800);
      }
      const char = this.#chars[id];
      if (code.includes(char)) continue;
      code += char;
      this.#counts[id]++;
    }
    return code;
  }

  /** Takes a stream with the tags of `code` off the counts. */
  remove(code: string): void {
    for (const char of code) {
      const point = char.codePointAt(0)!;
      const id = point < 0xd800 ? point : point - 0x800;
      if (--this.#counts[id] > 0) continue;
      this.#ids.delete(this.#names[id]);
      this.#names[id] = "";
      this.#free.push(id);
    }
  }

  /** Each tag with its live streams. */
  counts(): [string, number][] {
    const counts: [string, number][] = [];
    this.#counts.forEach((n, id) => {
      if (n > 0) counts.push([this.#names[id], n]);
    });
    return counts;
  }
}
