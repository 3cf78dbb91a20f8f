/**
 * The watchlist's hand-over to the current term: EventSub's records are
 * produced by the leader only, through the session that scans (a standby
 * drops them), and EventSub reads and updates that session's live set.
 *
 * @module
 */

import type { StreamRecord } from "../scan/record.ts";
import type { LiveState } from "../scan/endings.ts";
import type { ScanSession } from "./scheduled_scan.ts";

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
}

/** Creates the hand-over of events to whichever session scans. */
export function createHandOver(options: HandOverOptions): HandOver {
  return {
    send(records) {
      const current = options.active();
      if (current === null) {
        return Promise.reject(new Error("standing by: another instance leads"));
      }
      return current.delivery.send(records).catch((error) => {
        // Fenced while sending an event: step down now, not at the end of the next scan.
        if (current.delivery.lostLeadership) options.stepDown();
        throw error;
      });
    },
    live: () => options.active()?.state ?? new Map(),
  };
}
