/**
 * What a watched channel's event does to the topic: stream.online waits for
 * Helix to list the broadcast it named (minutes, batched with the other
 * channels waiting: `online.ts`) and produces its record; stream.offline produces the tombstones of
 * the channel's live streams with `end-reason: offline`. Events of one
 * channel are handled in order. Helix, Kafka and the clock are parameters.
 *
 * @module
 */

import type { StreamSource } from "../helix/client.ts";
import type { HelixStream } from "../helix/stream.ts";
import type { LiveState } from "../scan/endings.ts";
import { LiveSet } from "../scan/live_set.ts";
import { liveStream, type StreamRecord, streamRecord, tombstoneRecord } from "../scan/record.ts";
import { type Selection, selects } from "../scan/selection.ts";
import type { StreamEvent } from "./messages.ts";
import { LEDGER_HORIZON_MS, WatchLedger } from "./ledger.ts";
import { type Listed, OnlineRetries, type Schedule } from "./online.ts";

/** The edges and settings of the watcher. */
export interface WatcherOptions {
  source: StreamSource;
  /** Writes records and resolves once Kafka acknowledged them. */
  send: (records: StreamRecord[]) => Promise<void>;
  /** The live streams the topic holds (read for a channel's streams, updated after each ack). */
  live: () => LiveState;
  /** Shared with the scans. */
  ledger: WatchLedger;
  /** The filters: a stream they do not select is not produced. */
  selection?: Selection;
  /** How long after a stream.online to keep looking for its broadcast (default 3 minutes). */
  onlineWaitMs?: number;
  /** Runs the look-ups later (default `setTimeout`; tests pass a clock of their own). */
  schedule?: Schedule;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Called once records an event caused are acknowledged. */
  onProduced?: (event: StreamEvent, records: readonly StreamRecord[], ackedAt: number) => void;
}

/** What handling one event did. */
export interface EventOutcome {
  records: StreamRecord[];
  /** Why nothing was produced, when nothing was. */
  skipped?: string;
}

/** Handles events; those of one channel one after the other. */
export class Watcher {
  #options: WatcherOptions;
  /** The broadcast each channel's last online event produced (one per watched channel). */
  #online = new Map<string, string>();
  #queues = new Map<string, Promise<unknown>>();
  #now: () => number;
  #retries: OnlineRetries;
  /** The newest event of each channel, of the last hour: an older one stops waiting for Helix. */
  #newest = new Map<string, StreamEvent>();
  #prunedAt = -Infinity;

  /** @param options The edges. */
  constructor(options: WatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#retries = new OnlineRetries({
      source: options.source,
      now: this.#now,
      schedule: options.schedule,
      maxWaitMs: options.onlineWaitMs,
    });
  }

  /** Stops waiting for Helix to list new broadcasts (shutdown). */
  close(): void {
    this.#retries.close();
  }

  /**
   * Handles an event after the channel's earlier ones. Rejects when Helix or Kafka fail.
   *
   * Events of one channel come over different shards and can arrive out of the order Twitch
   * sent them (a quick restart: the old broadcast's stream.offline after the new one's
   * stream.online). Twitch's send time orders them: a late event only ends the broadcasts it
   * can be about, and neither stops the wait for a newer broadcast nor ends it.
   */
  handle(event: StreamEvent): Promise<EventOutcome> {
    const newest = this.#newest.get(event.userId);
    if (newest !== undefined && sentBefore(event, newest)) {
      // Not in the channel's queue: the old broadcast's tombstone must not wait minutes behind
      // the new broadcast's look-ups.
      return this.#handleLate(event, newest);
    }
    // A newer event of the channel ends the wait for the broadcast an older online announced.
    this.#retries.cancel(event.userId);
    this.#newest.delete(event.userId);
    this.#newest.set(event.userId, event);
    this.#prune(event.receivedAt);
    const before = this.#queues.get(event.userId) ?? Promise.resolve();
    const run = before.catch(() => {}).then(() => this.#handle(event));
    const tail = run.catch(() => {});
    this.#queues.set(event.userId, tail);
    tail.then(() => {
      if (this.#queues.get(event.userId) === tail) this.#queues.delete(event.userId);
    });
    return run;
  }

  /**
   * Forgets channels whose newest event is past the ledger's horizon (an hour), at most once a
   * tenth of it: with channels leaving the set, the maps no longer grow with every channel ever
   * subscribed. Oldest first, as events are set anew on arrival.
   */
  #prune(now: number) {
    if (now - this.#prunedAt < LEDGER_HORIZON_MS / 10) return;
    this.#prunedAt = now;
    for (const [userId, newest] of this.#newest) {
      if (now - newest.receivedAt <= LEDGER_HORIZON_MS) break;
      if (this.#queues.has(userId)) continue;
      this.#newest.delete(userId);
      // An hour on, the scans have long taken in the broadcast an online produced.
      this.#online.delete(userId);
    }
  }

  async #handle(event: StreamEvent): Promise<EventOutcome> {
    const { ledger } = this.#options;
    if (event.type === "stream.offline") {
      const before = ledger.latest(event.userId);
      ledger.note(event.userId, { type: "offline", at: event.receivedAt });
      const ids = streamsOf(this.#options.live(), event.userId);
      // A broadcast this watcher produced may be missing from the live set: a scan that began
      // before its online event replaces the set with what it saw. And the broadcast the last
      // stream.online named ends too, whether or not Helix listed it yet: a scan running now may
      // have written it.
      const online = this.#online.get(event.userId);
      const named = before?.type === "online" ? before.streamId : undefined;
      for (const id of [online, named]) if (id !== undefined && !ids.includes(id)) ids.push(id);
      if (ids.length === 0) return { records: [], skipped: "no live stream of that channel known" };
      // Before the write: from now on no page, however stale its cache node, brings them back.
      ledger.end(ids, event.receivedAt);
      const records = ids.map((id) =>
        tombstoneRecord(id, { scanId: "eventsub", at: event.receivedAt, reason: "offline" })
      );
      await this.#send(event, records);
      for (const id of ids) this.#options.live().delete(id);
      this.#online.delete(event.userId);
      return { records };
    }
    ledger.note(event.userId, {
      type: "online",
      at: event.receivedAt,
      ...(event.streamId ? { streamId: event.streamId } : {}),
    });
    const newer = { records: [], skipped: "a newer event of the channel came" };
    if (this.#newest.get(event.userId) !== event) return newer;
    const found = await this.#fetchOnline(event);
    if (this.#newest.get(event.userId) !== event) return newer;
    if (found === null) return { records: [], skipped: "Helix did not list the stream in time" };
    const { stream, fetchedAt } = found;
    if (ledger.supersedes(event.userId, stream.id, fetchedAt)) {
      return { records: [], skipped: "a newer event overruled it" };
    }
    const live = liveStream(stream);
    if (this.#options.selection && !selects(this.#options.selection, live)) {
      return { records: [], skipped: "the filters do not select it" };
    }
    const record = streamRecord(stream, { scanId: "eventsub", fetchedAt });
    await this.#send(event, [record]);
    this.#options.live().set(stream.id, live);
    this.#online.set(event.userId, stream.id);
    return { records: [record] };
  }

  /**
   * An event Twitch sent before the channel's newest one (`newer`): only broadcasts other than
   * the one `newer` announced are over. A late stream.offline ends the channel's other live
   * streams; a late stream.online's broadcast has ended already (an offline or another
   * broadcast followed it), so it stays ended and is tombstoned if the topic holds it.
   */
  async #handleLate(event: StreamEvent, newer: StreamEvent): Promise<EventOutcome> {
    const { ledger, live } = this.#options;
    const keep = newer.type === "stream.online" ? newer.streamId : undefined;
    let ids: string[];
    if (event.type === "stream.offline") {
      if (newer.type === "stream.offline") {
        return { records: [], skipped: "a newer stream.offline of the channel came" };
      }
      // Without the new broadcast's id the old one cannot be told from it: the scans end it.
      if (keep === undefined) {
        return { records: [], skipped: "a newer stream.online without a stream id came" };
      }
      ids = streamsOf(live(), event.userId);
      const online = this.#online.get(event.userId);
      if (online !== undefined && !ids.includes(online)) ids.push(online);
    } else {
      // A newer stream.offline names no broadcast: it may have ended an older one while this
      // broadcast goes on. Only a newer stream.online of another broadcast says it is over.
      if (newer.type === "stream.offline") {
        return { records: [], skipped: "a newer stream.offline of the channel came" };
      }
      ids = event.streamId !== undefined ? [event.streamId] : [];
    }
    ids = ids.filter((id) => id !== keep && !ledger.ended(id));
    if (ids.length === 0) return { records: [], skipped: "a newer event of the channel came" };
    ledger.end(ids, event.receivedAt);
    const held = ids.filter((id) => live().has(id) || this.#online.get(event.userId) === id);
    if (held.length === 0) return { records: [], skipped: "a newer event of the channel came" };
    const records = held.map((id) =>
      tombstoneRecord(id, { scanId: "eventsub", at: event.receivedAt, reason: "offline" })
    );
    await this.#send(event, records);
    for (const id of held) {
      live().delete(id);
      if (this.#online.get(event.userId) === id) this.#online.delete(event.userId);
    }
    return { records };
  }

  async #send(event: StreamEvent, records: StreamRecord[]) {
    await this.#options.send(records);
    this.#options.onProduced?.(event, records, this.#now());
  }

  /**
   * The channel's stream from Helix once it lists it: the broadcast the event named, or (an
   * event without an id) a broadcast the topic does not hold and no event ended.
   */
  #fetchOnline(event: StreamEvent): Promise<Listed | null> {
    const { ledger, live } = this.#options;
    const accept = event.streamId
      ? (s: HelixStream) => s.id === event.streamId
      : (s: HelixStream) => !live().has(s.id) && !ledger.ended(s.id);
    return this.#retries.wait(event.userId, accept);
  }
}

/** Whether Twitch sent `a` before `b` (events without a send time keep their arrival order). */
function sentBefore(a: StreamEvent, b: StreamEvent): boolean {
  return Number.isFinite(a.sentAt) && Number.isFinite(b.sentAt) && a.sentAt < b.sentAt;
}

/** The ids of a channel's streams in the live state. */
function streamsOf(live: LiveState, userId: string): string[] {
  // A million live streams read one by one take seconds, while the shards' keepalives wait.
  if (live instanceof LiveSet) return live.idsOfUser(userId);
  const ids: string[] = [];
  for (const [id, stream] of live) if (stream.userId === userId) ids.push(id);
  return ids;
}
