/**
 * The simulator's options and their defaults. The simulator takes options
 * only; the `SIM_*` variables are read into them by the service's
 * configuration (`src/config/simulator.ts`).
 *
 * @module
 */

/** Settings of a simulator; every field has a default. */
export interface SimulatorOptions {
  /** Streams live at the start (`SIM_STREAMS`, default 5000). */
  streams: number;
  /** Seed of all simulated data (`SIM_SEED`, default 1). */
  seed: number;
  /** Added latency per request in milliseconds (`SIM_LATENCY_MS`, default 0). */
  latencyMs: number;
  /** Rate limit in points per minute per client id (`SIM_RATE_LIMIT`, default 800). */
  rateLimit: number;
  /** Fraction of Helix requests answered with a 5xx, 0..1 (`SIM_FAULT_RATE`, default 0). */
  faultRate: number;
  /** How fast viewer counts and streams change; 0 = static (`SIM_CHURN`, default 0). */
  churn: number;
  /**
   * Under churn, the share of ending streams whose channel goes live again a
   * few minutes later under a new stream id (`SIM_RESTART_RATE`, default 0.3).
   */
  restartRate: number;
  /** Port to listen on; 0 = any free port (`SIM_PORT`, default 0). */
  port: number;
  /** Address to listen on (default 127.0.0.1, and ::1 too when available). */
  hostname: string;
  /** Streams that started more than 48 hours ago, still listed (`SIM_EXPIRED_STREAMS`, default 0). */
  expiredStreams: number;
  /** Streams whose language code is outside ISO 639-1 and Twitch's own (`SIM_UNLISTED_LANGUAGES`, default 0). */
  unlistedStreams: number;
  /** Every fourth stream gets a hostile title: markup, direction overrides, emoji, length (`SIM_HOSTILE_TITLES`, default off). */
  hostileTitles: boolean;
  /** After this many successful Get Streams answers, every further one is a 503 (`SIM_FAIL_AFTER`). */
  failAfter?: number;
  /** Lifetime of app access tokens in seconds (`SIM_TOKEN_TTL`, default 5184000 = 60 days). */
  tokenTtlSeconds: number;
  /** `max_total_cost` of the app's EventSub subscriptions (`SIM_EVENTSUB_MAX_COST`, default 10000 as at Twitch). */
  eventSubMaxCost: number;
  /** How long an EventSub session may stay neither subscribed nor assigned before 4003 (default 10000 ms as at Twitch; tests shorten it). */
  eventSubUnusedMs: number;
  /** The client id the simulator accepts. */
  clientId: string;
  /** The client secret the simulator accepts. */
  clientSecret: string;
  /**
   * Seconds of Helix's cache: each answer comes from one of several cache nodes, each serving a
   * snapshot up to this old (`SIM_CACHE_LAG_S`, default 0 = one coherent, current answer).
   */
  cacheLagSeconds: number;
  /** Seconds from a new stream's stream.online until Helix lists it (`SIM_ONLINE_LAG_S`, default 0). */
  onlineLagSeconds: number;
  /** The last page still carries a cursor, and it leads back to page 1 (`SIM_CURSOR_LOOP`). */
  cursorLoop: boolean;
  /** Chance (0..1) that the page before the last comes back empty, with a cursor (`SIM_EMPTY_PAGES`). */
  emptyPageRate: number;
  /** Chance (0..1) that a page asked with a cursor is a 400 "invalid cursor" (`SIM_BAD_CURSOR_RATE`). */
  badCursorRate: number;
  /**
   * Points per minute the bucket really refills while the headers advertise `rateLimit`
   * (`SIM_REFILL_PER_MIN`; default: `rateLimit`).
   */
  refillPerMinute?: number;
  /** The clock, in milliseconds since the epoch (default `Date.now`; tests pass their own). */
  clock?: () => number;
}

/** The well-known credentials of the simulator: they guard nothing. */
export const DEFAULT_CLIENT_ID = "datagen-sim-client";
/** The well-known credentials of the simulator: they guard nothing. */
export const DEFAULT_CLIENT_SECRET = "datagen-sim-secret";

/** The defaults of every setting. */
export function defaultSimulatorOptions(): SimulatorOptions {
  return {
    streams: 5000,
    seed: 1,
    latencyMs: 0,
    rateLimit: 800,
    faultRate: 0,
    churn: 0,
    restartRate: 0.3,
    port: 0,
    hostname: "127.0.0.1",
    expiredStreams: 0,
    unlistedStreams: 0,
    hostileTitles: false,
    failAfter: undefined,
    cacheLagSeconds: 0,
    onlineLagSeconds: 0,
    cursorLoop: false,
    emptyPageRate: 0,
    badCursorRate: 0,
    refillPerMinute: undefined,
    tokenTtlSeconds: 5_184_000,
    eventSubMaxCost: 10_000,
    eventSubUnusedMs: 10_000,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
  };
}

/** Most streams a simulator holds: a busy day on Twitch is about 110,000. */
export const MAX_SIM_STREAMS = 1_000_000;

/**
 * Helix as reported in the field, for `SIM_REALISTIC=1`: cache nodes up to 5 minutes behind, new
 * streams listed a minute after stream.online, a looping last cursor, an empty page now and then,
 * a rare 400 on a cursor, and a bucket that refills at 600 a minute while advertising 800.
 */
export const REALISTIC: Readonly<
  Pick<
    SimulatorOptions,
    | "cacheLagSeconds"
    | "onlineLagSeconds"
    | "cursorLoop"
    | "emptyPageRate"
    | "badCursorRate"
    | "refillPerMinute"
  >
> = {
  cacheLagSeconds: 300,
  onlineLagSeconds: 60,
  cursorLoop: true,
  emptyPageRate: 0.2,
  badCursorRate: 0.01,
  refillPerMinute: 600,
};
