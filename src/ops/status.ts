/**
 * The status page's model: what is live now (the board of acknowledged
 * records) and how the service is doing (the last scans, Kafka, the role,
 * the rate budget, EventSub, readiness), as the stable `/status.json`
 * shape. The service reports to it in a few calls; it decides nothing for
 * the service. Nothing a setting holds appears in it but counts, and any
 * error text has the secrets it was given blanked out.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { ScanSummary } from "../scan/scan.ts";
import type { StreamRecord } from "../scan/record.ts";
import type { Readiness } from "./readiness.ts";
import { cut, LiveBoard, type LiveSummary } from "./status_live.ts";

/** The version of the `/status.json` shape; it changes only when a field changes meaning or goes. */
export const STATUS_VERSION = 1;
/** Scans kept for the timeline. */
export const SCAN_HISTORY = 30;
/** EventSub events kept for the page. */
export const EVENT_HISTORY = 10;
/** How long a summary of the live set is reused when nothing was written meanwhile. */
const SUMMARY_MAX_AGE_MS = 1000;

/** Whether this instance writes the topic: alone, as the elected leader, or standing by. */
export type Role = "single" | "leader" | "standby";

/** One scan on the timeline. */
export interface ScanRow {
  /** When it finished, RFC 3339. */
  finishedAt: string;
  result: ScanSummary["result"];
  durationMs: number;
  /** The shortest time its rate-limit points take to refill (null: no rate limit known). */
  rateBoundMs: number | null;
  points: number | null;
  distinct: number;
  records: number;
  ended: number;
  expired: number;
  recovered: number;
  deselected: number;
  /** Why it did not succeed. */
  error: string | null;
}

/** One EventSub event the service produced. */
export interface EventRow {
  at: string;
  /** `offline` for a tombstone, `online` for a record. */
  kind: "online" | "offline";
  stream: string;
  /** The channel's display name, when the live set knew it. */
  channel: string | null;
}

/** The whole `/status.json` document. */
export interface StatusDocument {
  version: number;
  generatedAt: string;
  live: LiveSummary;
  service: {
    ready: boolean;
    readiness: string;
    role: Role;
    lastSuccessAt: string | null;
    sinceSuccessSeconds: number | null;
    kafka: { reachable: boolean; lastError: string | null; lastErrorAt: string | null };
    budget: {
      perMinute: number | null;
      remaining: number | null;
      lastScanPoints: number | null;
      lastScanRateBoundMs: number | null;
    };
    scans: ScanRow[];
    eventsub: EventSubStatus | null;
  };
}

/** What the page says of EventSub. */
export interface EventSubStatus {
  connected: boolean;
  shards: { connected: number; total: number };
  channels: number;
  /** Live streams of watched channels, and their share of the live set's streams and viewers. */
  coverage: { streams: number; streamShare: number; viewerShare: number };
  lastEvents: EventRow[];
}

/** What the model reads from the service when asked. */
export interface StatusSources {
  readiness: () => Readiness;
  /** The Helix source's budget (absent: no rate limit known). */
  source?: { rateLimitRemaining(): number | null; budget?(): { perMinute: number } };
  /** EventSub: which channels it follows, how many, and its shards' states (absent: it is off). */
  eventsub?: {
    /** The pinned logins, or whether a channel (user id, login) is followed now. */
    watched: readonly string[] | ((userId: string, login: string) => boolean);
    /** Channels subscribed (default: the pinned logins' count). */
    channels?: () => number;
    shards: () => readonly string[];
  };
  /** Values that must never be shown (client secret, passwords, tokens). */
  secrets?: readonly (string | undefined)[];
  now?: () => number;
}

/** The status page's model. */
export class ServiceStatus {
  /** What is live now, after acknowledged writes. */
  readonly live: LiveBoard;
  readonly #sources: StatusSources;
  readonly #now: () => number;
  readonly #secrets: string[];
  #scans: ScanRow[] = [];
  #events: EventRow[] = [];
  #role: Role = "single";
  #lastSuccessAt: number | null = null;
  #kafka = {
    reachable: false,
    lastError: null as string | null,
    lastErrorAt: null as number | null,
  };
  #cached: { at: number; writes: number; live: LiveSummary } | null = null;
  #writes = 0;

  constructor(sources: StatusSources) {
    this.#sources = sources;
    this.#now = sources.now ?? Date.now;
    this.#secrets = (sources.secrets ?? []).filter((s): s is string => !!s && s.length >= 4);
    this.live = new LiveBoard(sources.eventsub?.watched ?? []);
  }

  /** Records the broker acknowledged; `fromEvent` marks those an EventSub event produced. */
  acknowledged(records: readonly StreamRecord[], fromEvent = false): void {
    // An offline event's channel is known only until its tombstone applies.
    const before = fromEvent ? records.map((r) => this.live.channel(r.key)) : [];
    this.live.acknowledged(records);
    this.#writes++;
    if (!fromEvent) return;
    records.forEach((r, i) => {
      this.#events.push({
        at: iso(r.timestamp),
        kind: r.value === null ? "offline" : "online",
        stream: r.key,
        channel: r.value === null ? before[i] : this.live.channel(r.key),
      });
    });
    this.#events = this.#events.slice(-EVENT_HISTORY);
  }

  /** A scan finished. */
  scanned(summary: ScanSummary, finishedAt: number): void {
    if (summary.result === "ok") this.#lastSuccessAt = finishedAt;
    this.#scans.push({
      finishedAt: iso(finishedAt),
      result: summary.result,
      durationMs: summary.durationMs,
      rateBoundMs: summary.rateBoundMs,
      points: summary.points,
      distinct: summary.distinct,
      records: summary.records,
      ended: summary.ended,
      expired: summary.expired,
      recovered: summary.recovered,
      deselected: summary.deselected,
      error: summary.failure === undefined
        ? null
        : this.#redact(`${summary.failure.stage}: ${summary.failure.message}`),
    });
    if (this.#scans.length > SCAN_HISTORY) this.#scans.shift();
  }

  /** What the last look at the broker found; `error` says why it could not be used. */
  kafka(reachable: boolean, error?: string): void {
    this.#kafka.reachable = reachable;
    if (!reachable && error !== undefined) {
      this.#kafka.lastError = this.#redact(error);
      this.#kafka.lastErrorAt = this.#now();
    }
  }

  /** This instance's role; a standby forgets the live set (the leader's page shows it). */
  role(role: Role): void {
    this.#role = role;
    if (role === "standby") {
      this.live.clear();
      this.#writes++;
    }
  }

  /** The `/status.json` document as of now. */
  snapshot(): StatusDocument {
    const now = this.#now();
    const verdict = this.#sources.readiness();
    const source = this.#sources.source;
    const budget = source?.budget?.();
    const last = this.#scans.at(-1) ?? null;
    return {
      version: STATUS_VERSION,
      generatedAt: iso(now),
      live: this.#summary(now),
      service: {
        ready: verdict.ready,
        readiness: this.#redact(verdict.reason),
        role: this.#role,
        lastSuccessAt: this.#lastSuccessAt === null ? null : iso(this.#lastSuccessAt),
        sinceSuccessSeconds: this.#lastSuccessAt === null
          ? null
          : Math.max(0, Math.round((now - this.#lastSuccessAt) / 1000)),
        kafka: {
          reachable: this.#kafka.reachable,
          lastError: this.#kafka.lastError,
          lastErrorAt: this.#kafka.lastErrorAt === null ? null : iso(this.#kafka.lastErrorAt),
        },
        budget: {
          perMinute: budget?.perMinute ?? null,
          remaining: source?.rateLimitRemaining() ?? null,
          lastScanPoints: last?.points ?? null,
          lastScanRateBoundMs: last?.rateBoundMs ?? null,
        },
        scans: [...this.#scans],
        eventsub: this.#eventsub(),
      },
    };
  }

  #summary(now: number): LiveSummary {
    const cached = this.#cached;
    if (cached !== null && cached.writes === this.#writes && now - cached.at < SUMMARY_MAX_AGE_MS) {
      return cached.live;
    }
    const live = this.live.summary(now);
    this.#cached = { at: now, writes: this.#writes, live };
    return live;
  }

  #eventsub(): EventSubStatus | null {
    const eventsub = this.#sources.eventsub;
    if (eventsub === undefined) return null;
    const shards = eventsub.shards();
    const connected = shards.filter((s) => s === "connected").length;
    const covered = this.live.covered();
    const summary = this.#cached?.live;
    return {
      connected: connected > 0,
      shards: { connected, total: shards.length },
      channels: eventsub.channels?.() ??
        (Array.isArray(eventsub.watched) ? eventsub.watched.length : 0),
      coverage: {
        streams: covered.streams,
        streamShare: share(covered.streams, summary?.streams ?? this.live.size),
        viewerShare: share(covered.viewers, summary?.viewers ?? 0),
      },
      lastEvents: [...this.#events],
    };
  }

  #redact(text: string): string {
    let clean = text;
    for (const secret of this.#secrets) clean = clean.replaceAll(secret, "[redacted]");
    return cut(clean);
  }
}

/** The values of a configuration that are secrets: never shown, even inside an error. */
export function secretValues(config: Config): (string | undefined)[] {
  return [
    config.twitch.clientSecret,
    config.kafka.sasl?.password,
  ];
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
