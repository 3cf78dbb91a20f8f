/**
 * De-duplication of one scan. Helix orders streams by current viewers, and
 * the order shifts while a client pages, so a stream can show up twice. The
 * scan keeps one observation per stream, the later one, and counts the rest.
 *
 * Records still have to flow to Kafka while later pages are fetched, so each
 * query's observations are held back for a few pages before they are
 * released: a duplicate within that window replaces the held observation
 * (one record, the later one). A duplicate that arrives after its first
 * observation was released is dropped, so a scan never produces two records
 * for one stream; it is counted apart as a late duplicate (the window is
 * sized so that these are rare). Pure and synchronous.
 *
 * @module
 */

import { IdSet } from "./live_set.ts";

/** Anything observed on a page: a stream, or a compact form of one. */
export interface Observation {
  id: string;
}

/** Counts of one scan's de-duplication. */
export interface DedupeCounts {
  /** Observations of streams seen before in the same scan. */
  duplicates: number;
  /** Duplicates that came after the first observation had already been released (dropped). */
  lateDuplicates: number;
}

/** Holds back each query's recent pages and keeps the later of two observations. */
export class ScanDeduper<T extends Observation> {
  /** Pages each query holds back before releasing them. */
  readonly window: number;
  readonly counts: DedupeCounts = { duplicates: 0, lateDuplicates: 0 };
  /** Held observations by stream id, in the page slot where they were first seen. */
  #held = new Map<string, { slot: Map<string, T> }>();
  /** Held pages of each query, oldest first. */
  #queues = new Map<number, Map<string, T>[]>();
  /** Every id of the scan ends up here: compact, for a million streams. */
  #released = new IdSet();

  /** @param options.window Pages held back per query (default 10). */
  constructor(options: { window?: number } = {}) {
    this.window = options.window ?? 10;
  }

  /** The ids released so far: after {@link finishAll}, every id the scan saw. */
  get released(): IdSet {
    return this.#released;
  }

  /**
   * Adds one page of query `query` (its observations in page order) and
   * returns the observations that are ready to be produced.
   */
  add(query: number, observations: readonly T[]): T[] {
    const ready: T[] = [];
    const slot = new Map<string, T>();
    for (const observation of observations) {
      const held = this.#held.get(observation.id);
      if (held) {
        this.counts.duplicates++;
        held.slot.set(observation.id, observation);
      } else if (this.#released.has(observation.id)) {
        this.counts.duplicates++;
        this.counts.lateDuplicates++;
      } else {
        slot.set(observation.id, observation);
        this.#held.set(observation.id, { slot });
      }
    }
    const queue = this.#queues.get(query) ?? [];
    this.#queues.set(query, queue);
    queue.push(slot);
    while (queue.length > this.window) ready.push(...this.#release(queue.shift()!));
    return ready;
  }

  /** Releases everything query `query` still holds (its last page was fetched). */
  finish(query: number): T[] {
    const queue = this.#queues.get(query) ?? [];
    this.#queues.delete(query);
    return queue.flatMap((slot) => this.#release(slot));
  }

  /** Releases everything still held, from every query. */
  finishAll(): T[] {
    return [...this.#queues.keys()].flatMap((query) => this.finish(query));
  }

  #release(slot: Map<string, T>): T[] {
    for (const id of slot.keys()) {
      this.#held.delete(id);
      this.#released.add(id);
    }
    return [...slot.values()];
  }
}
