/**
 * The newest observation per watched channel, shared by EventSub and the
 * scans: per key, the newest observation wins. A scan page fetched before a
 * stream.offline event must not bring the stream back, and one fetched
 * before a stream.online event must not bring back the broadcast before it.
 * Times are this machine's clock: when the event arrived, when the page did.
 *
 * Comparing times is not enough against Helix's cache: a node minutes behind
 * lists an ended broadcast in a page fetched after its stream.offline. A
 * stream id is one broadcast, so an id that stream.offline ended stays ended:
 * no page or look-up brings it back, for the 48 hours a broadcast can last
 * (one id per ended broadcast).
 *
 * With up to 5,000 channels subscribed (`EVENTSUB_CHANNELS`) and channels
 * leaving the set, the ledger forgets observations older than an hour: an
 * event can only overrule a page fetched before it, and no page waits that
 * long between its fetch and its hand-over to Kafka.
 *
 * @module
 */

import type { EventVerdicts } from "../scan/state.ts";
import type { StreamRecord } from "../scan/record.ts";
import { MAX_BROADCAST_MS } from "../helix/stream.ts";

/** What an event said about a channel, and when it arrived. */
export interface Observation {
  type: "online" | "offline";
  /** Milliseconds since the epoch, local clock. */
  at: number;
  /** The broadcast that went online (online only). */
  streamId?: string;
}

/** How long an observation is kept: far longer than any page waits before its hand-over. */
export const LEDGER_HORIZON_MS = 60 * 60_000;

/**
 * The newest event per user id, of the last {@link LEDGER_HORIZON_MS}: bounded by the channels
 * with events in that time, whatever `EVENTSUB_CHANNELS` is.
 */
export class WatchLedger implements EventVerdicts {
  #last = new Map<string, Observation>();
  #horizonMs: number;
  #prunedAt = -Infinity;
  /** Stream ids that stream.offline ended, and when, oldest first. */
  #ended = new Map<string, number>();

  /** @param options `horizonMs`: how long an observation is kept (default an hour). */
  constructor(options: { horizonMs?: number } = {}) {
    this.#horizonMs = options.horizonMs ?? LEDGER_HORIZON_MS;
  }

  /** Notes that stream.offline ended these broadcasts at `at`: they stay ended for 48 hours. */
  end(streamIds: Iterable<string>, at: number): void {
    for (const id of streamIds) {
      this.#ended.delete(id);
      this.#ended.set(id, at);
    }
    for (const [id, endedAt] of this.#ended) {
      if (endedAt > at - MAX_BROADCAST_MS) break;
      this.#ended.delete(id);
    }
  }

  /**
   * Takes in broadcasts stream.offline ended before this process began (from the topic's
   * tombstones), each with its time; those past 48 hours are left out.
   */
  learn(ended: ReadonlyMap<string, number>, now: number): void {
    const known = [...ended].filter(([, at]) => at > now - MAX_BROADCAST_MS);
    for (const [id, at] of known.sort((a, b) => a[1] - b[1])) this.end([id], at);
  }

  /** Whether stream.offline ended this broadcast. */
  ended(streamId: string): boolean {
    return this.#ended.has(streamId);
  }

  /** How many ended broadcasts are kept. */
  get endedCount(): number {
    return this.#ended.size;
  }

  /** Notes an event; an older one than what is known is ignored. Returns whether it was newer. */
  note(userId: string, observation: Observation): boolean {
    const known = this.#last.get(userId);
    if (known !== undefined && known.at > observation.at) return false;
    this.#last.set(userId, observation);
    this.#prune(observation.at);
    return true;
  }

  /** Forgets observations past the horizon, at most once per tenth of it. */
  #prune(now: number) {
    if (now - this.#prunedAt < this.#horizonMs / 10) return;
    this.#prunedAt = now;
    for (const [userId, observation] of this.#last) {
      if (now - observation.at > this.#horizonMs) this.#last.delete(userId);
    }
  }

  /**
   * The records of a batch that no event has overruled since their page came
   * (tombstones always pass). Records wait in the scan's batcher; an event that
   * ends a broadcast meanwhile writes its tombstone first, and the older live
   * record must not follow it.
   */
  unsuperseded(batch: readonly StreamRecord[]): StreamRecord[] {
    if (this.#last.size === 0 && this.#ended.size === 0) return [...batch];
    return batch.filter((record) => {
      if (record.value === null) return true;
      if (this.#ended.has(record.key)) return false;
      const userId = /"user_id":"([^"]+)"/.exec(record.value)?.[1];
      return userId === undefined || !this.supersedes(userId, record.key, record.timestamp);
    });
  }

  /** The channels whose newest event is a stream.offline that arrived at `since` or later. */
  offlineSince(since: number): { userId: string; at: number }[] {
    const found: { userId: string; at: number }[] = [];
    for (const [userId, last] of this.#last) {
      if (last.type === "offline" && last.at >= since) found.push({ userId, at: last.at });
    }
    return found;
  }

  /** How many channels have an event noted. */
  get size(): number {
    return this.#last.size;
  }

  /** The newest event of a user, if any. */
  latest(userId: string): Observation | undefined {
    return this.#last.get(userId);
  }

  /**
   * Whether an event says that stream `streamId` of `userId` is over: stream.offline ended that
   * broadcast (however new the page), or an event newer than `fetchedAt` says the channel went
   * offline, or online with another broadcast.
   */
  supersedes(userId: string, streamId: string, fetchedAt: number): boolean {
    if (this.#ended.has(streamId)) return true;
    const last = this.#last.get(userId);
    if (last === undefined || last.at <= fetchedAt) return false;
    return last.type === "offline" || last.streamId !== streamId;
  }
}
