/**
 * Where a lane of pages ends. Helix's last page may still carry a cursor
 * that leads back to page 1, so "no cursor" is not the only end: a lane also
 * ends when a cursor comes back, or when a page is mostly the lane's first
 * page again (it starts at the lane's top stream, or viewer counts jump back
 * up). A scan also never pages past a bound derived from the streams it
 * expects, whatever Helix answers. Pure and synchronous.
 *
 * @module
 */

import type { HelixStream } from "../helix/stream.ts";

/** Twitch's busiest days list about 110,000 live streams: the bound when nothing is known. */
const MOST_STREAMS = 120_000;

/**
 * Most pages one scan may fetch: twice the streams expected (or Twitch's busiest day, if more),
 * at 100 a page, and a margin for each lane's restarts and short pages.
 */
export function pageBound(options: { expected: number; lanes: number }): number {
  const streams = Math.max(2 * options.expected, MOST_STREAMS);
  return Math.ceil(streams / 100) + 20 * Math.max(1, options.lanes);
}

/**
 * The bound while a scan pages: a world larger than expected (a fresh topic, a busier Twitch)
 * raises it with each new stream found; a loop brings back streams already counted, and does not.
 */
export function pagesAllowed(options: { bound: number; distinct: number; lanes: number }): number {
  return Math.max(options.bound, pageBound({ expected: options.distinct, lanes: options.lanes }));
}

/** Why a lane stopped before its last page said so. */
export type LoopSign = "cursor came back" | "page 1 again" | "jump back up";

/** What one lane has covered: enough to see it come back to where it started. */
export class LaneTrail {
  /** Ids on the lane's first non-empty page. */
  #firstIds = new Set<string>();
  /** The first of them: the top of the lane. */
  #topId = "";
  /** Cursors the lane has followed. */
  #cursors = new Set<string>();
  /** Viewer count of the last stream of the last non-empty page. */
  #lastViewers = Infinity;
  #pages = 0;

  /**
   * Whether a page returned to ground the lane has covered: then its streams are not new and
   * the lane ends. Otherwise the page is taken as covered.
   *
   * Paging shows a stream twice now and then (it moved down while the lane paged), so one known
   * stream proves nothing. A loop brings back page 1 whole: most of the page is known, and it
   * starts at the top of the lane again or jumps back up in viewers.
   */
  loopsBack(streams: readonly HelixStream[]): LoopSign | null {
    if (streams.length === 0) return null;
    if (this.#pages > 0) {
      let known = 0;
      for (const s of streams) if (this.#firstIds.has(s.id)) known++;
      const mostlyKnown = known * 5 >= streams.length * 4 &&
        streams.length * 5 >= this.#firstIds.size * 4;
      if (mostlyKnown && streams[0].id === this.#topId) return "page 1 again";
      if (mostlyKnown && streams[0].viewer_count > this.#lastViewers) return "jump back up";
    } else {
      for (const s of streams) this.#firstIds.add(s.id);
      this.#topId = streams[0].id;
    }
    this.#pages++;
    this.#lastViewers = streams[streams.length - 1].viewer_count;
    return null;
  }

  /** Whether a cursor was followed before (following it again would repeat pages); notes it. */
  seenCursor(cursor: string): boolean {
    if (this.#cursors.has(cursor)) return true;
    this.#cursors.add(cursor);
    return false;
  }

  /** Forgets the lane's pages (it restarts from page 1); cursors followed stay known. */
  restart(): void {
    this.#firstIds.clear();
    this.#topId = "";
    this.#lastViewers = Infinity;
    this.#pages = 0;
  }
}
