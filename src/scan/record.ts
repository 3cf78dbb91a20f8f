/**
 * The record contract: how a Helix stream becomes a Kafka record, and how an
 * ended stream becomes a tombstone. Pure functions over plain data.
 *
 * @module
 */

import { type HelixStream, MAX_BROADCAST_MS } from "../helix/stream.ts";

/** A record ready for Kafka: string key, JSON value or `null` for a tombstone. */
export interface StreamRecord {
  key: string;
  value: string | null;
  /** Milliseconds since the epoch: when the stream's page was fetched, or the stream confirmed ended. */
  timestamp: number;
  headers: Record<string, string>;
}

/**
 * Why a tombstone was written: the stream ended (found by a scan), is past 48
 * hours, left the selection, or went offline (an EventSub event said so).
 */
export const END_REASONS = ["ended", "expired", "deselected", "offline"] as const;
/** The end reasons a scan decides (an `offline` tombstone comes from an EventSub event). */
export const SCAN_END_REASONS = ["ended", "expired", "deselected"] as const;
/** One of {@link END_REASONS}: the `end-reason` header of a tombstone. */
export type EndReason = (typeof END_REASONS)[number];

/** Scan metadata carried in every record's headers. */
export interface ScanMeta {
  scanId: string;
}

/** What a later scan needs to remember of a live stream: not the whole object. */
export interface LiveStream {
  userId: string;
  /** `started_at` in milliseconds since the epoch. */
  startedAt: number;
  /** What the filters select by, so that a narrowed filter can deselect a stream. */
  language: string;
  gameId: string;
  userLogin: string;
  /** Viewers when last seen (ranks the channels EventSub follows; 0 when unknown). */
  viewers?: number;
}

/** Builds the record for a live stream, keeping Helix's object exactly as it came. */
export function streamRecord(
  stream: HelixStream,
  meta: ScanMeta & { fetchedAt: number },
): StreamRecord {
  return {
    key: stream.id,
    value: JSON.stringify(stream),
    timestamp: meta.fetchedAt,
    headers: {
      "scan-id": meta.scanId,
      "fetched-at": new Date(meta.fetchedAt).toISOString(),
    },
  };
}

/** Builds the tombstone (null value) that deletes an ended stream downstream. */
export function tombstoneRecord(
  id: string,
  meta: ScanMeta & { at: number; reason: EndReason },
): StreamRecord {
  return {
    key: id,
    value: null,
    timestamp: meta.at,
    headers: {
      "scan-id": meta.scanId,
      "fetched-at": new Date(meta.at).toISOString(),
      "end-reason": meta.reason,
    },
  };
}

/** The few fields of a stream that later scans need. */
export function liveStream(
  stream:
    & Pick<HelixStream, "user_id" | "started_at" | "language" | "game_id" | "user_login">
    & { viewer_count?: number },
): LiveStream {
  return {
    ...(stream.viewer_count === undefined ? {} : { viewers: stream.viewer_count }),
    userId: stream.user_id,
    startedAt: Date.parse(stream.started_at),
    language: intern(stream.language),
    gameId: intern(stream.game_id),
    userLogin: stream.user_login,
  };
}

// Languages and game ids repeat across many thousands of streams: keep one copy of each.
const interned = new Map<string, string>();
function intern(text: string): string {
  const known = interned.get(text);
  if (known !== undefined) return known;
  if (interned.size < 100_000) interned.set(text, text);
  return text;
}

/** Whether a stream started longer ago than any broadcast can last. */
export function isExpired(startedAt: number, now: number): boolean {
  return now - startedAt > MAX_BROADCAST_MS;
}
