/**
 * The watchlist's hand-over to the current term: EventSub's records are
 * produced by the leader only, through the session that scans (a standby
 * drops them), and EventSub reads and updates that session's live set.
 *
 * A scan replaces the live set with the state that follows it. A stream an
 * event produced while the scan ran (after the scan looked for what went
 * missing) is neither listed nor looked up by that scan: it is noted here and
 * merged into the scan's next state, unless the scan tombstoned it, so that
 * a later scan still tombstones it when it ends.
 *
 * @module
 */

import type { HelixStream } from "../helix/stream.ts";
import { type LiveStream, liveStream, type StreamRecord } from "../scan/record.ts";
import type { LiveState } from "../scan/endings.ts";
import { LiveSet } from "../scan/live_set.ts";
import type { ScanSession } from "./context.ts";

/** The edges of {@link createHandOver}. */
export interface HandOverOptions {
  /** The session that scans now: HA=off the one session, HA=on the current term's, or null. */
  active(): ScanSession | null;
  /** The producer was fenced: step down (HA=on). */
  stepDown(): void;
}

/** What EventSub is given to write with. */
export interface HandOver {
  /** Sends an event's records through the current session; rejects on a standby. */
  send(records: StreamRecord[]): Promise<void>;
  /** The current session's live set (an empty one on a standby). */
  live(): LiveState;
  /** Notes what events produce through `session` from now on: call as one of its scans starts. */
  note(session: ScanSession): NotedEvents;
}

/** What events produced through one session while one of its scans ran. */
export interface NotedEvents {
  /**
   * Stops noting (again: no change). The streams events made live meanwhile, and null for those
   * an event ended meanwhile.
   */
  end(): ReadonlyMap<string, LiveStream | null>;
}

/** Creates the hand-over of events to whichever session scans. */
export function createHandOver(options: HandOverOptions): HandOver {
  const noting = new Set<{ session: ScanSession; live: Map<string, LiveStream | null> }>();
  return {
    async send(records) {
      const current = options.active();
      if (current === null) throw new Error("standing by: another instance leads");
      try {
        await current.delivery.send(records);
      } catch (error) {
        // Fenced while sending an event: step down now, not at the end of the next scan.
        if (current.delivery.lostLeadership) options.stepDown();
        throw error;
      }
      for (const note of noting) if (note.session === current) noteRecords(note.live, records);
    },
    live: () => options.active()?.state ?? new Map(),
    note(session) {
      const note = { session, live: new Map<string, LiveStream | null>() };
      noting.add(note);
      return {
        end() {
          noting.delete(note);
          return note.live;
        },
      };
    },
  };
}

/** Notes acknowledged records: a stream made live, or ended (a tombstone). */
function noteRecords(
  live: Map<string, LiveStream | null>,
  records: readonly StreamRecord[],
): void {
  for (const record of records) {
    if (record.value === null) live.set(record.key, null);
    else live.set(record.key, liveStream(JSON.parse(record.value) as HelixStream));
  }
}

/**
 * The state after a scan, with what events did while it ran: the streams they made live that the
 * scan did not see stay live, unless the scan tombstoned them; the streams they ended are gone,
 * even if a page listed them before the event (else the next scan would tombstone them again).
 */
export function withEvents(
  next: LiveState,
  events: ReadonlyMap<string, LiveStream | null>,
  tombstoned: ReadonlySet<string>,
): LiveState {
  for (const [id, live] of events) {
    if (live === null) next.delete(id);
    else if (!tombstoned.has(id) && !next.has(id)) next.set(id, live);
  }
  return next;
}

/** A broadcast this long before its channel's stream.offline is surely the one it ended. */
const ENDED_BEFORE_MS = 60_000;

/**
 * The streams of a scan's next state whose channel went offline while the scan ran: the event
 * found none of them (the scan had not yet handed its state over), and a page fetched before it
 * brought them in. Only broadcasts that began a minute before the event are taken, so that a
 * channel live again since, whose stream.online is still on its way, keeps its new broadcast.
 */
export function endedDuringScan(
  next: LiveState,
  offline: readonly { userId: string; at: number }[],
): string[] {
  if (offline.length === 0) return [];
  const ids: string[] = [];
  const of = (userId: string): string[] => {
    if (next instanceof LiveSet) return next.idsOfUser(userId);
    return [...next].filter(([, s]) => s.userId === userId).map(([id]) => id);
  };
  for (const { userId, at: offlineAt } of offline) {
    for (const id of of(userId)) {
      const stream = next.get(id);
      if (stream !== undefined && stream.startedAt < offlineAt - ENDED_BEFORE_MS) ids.push(id);
    }
  }
  return ids;
}
