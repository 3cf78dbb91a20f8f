/**
 * The EventSub settings: the watchlist, the WebSocket URL and the conduit's
 * shards. EventSub runs on the app's credentials (a conduit), so it needs no
 * setting of its own beyond these. Parsed apart from the rest so the main
 * table stays readable.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";
import { readSettings } from "./settings.ts";

/** Twitch's EventSub WebSocket endpoint. */
export const TWITCH_EVENTSUB_WS_URL = "wss://eventsub.wss.twitch.tv/ws";

/** Real-time following of a watchlist. */
export interface EventSubConfig {
  /** Channels followed in real time (lower case); empty = EventSub off. */
  watchLogins: string[];
  /** The WebSocket server; unset: the simulator's with SOURCE=simulated, else Twitch's. */
  wsUrl?: string;
  /** WebSocket shards of the conduit. */
  shards: number;
  /** Channels kept subscribed (pinned included); 0 = EventSub off. */
  channels: number;
}

/** Validates the EventSub settings. @throws {ConfigError} naming the setting at fault. */
export function parseEventSubConfig(
  env: Record<string, string | undefined>,
  source: "twitch" | "simulated",
): EventSubConfig {
  const v = readSettings(env, [
    "WATCH_USER_LOGINS",
    "EVENTSUB_WS_URL",
    "EVENTSUB_SHARDS",
    "EVENTSUB_CHANNELS",
  ]);
  void source;
  const watchLogins = v.WATCH_USER_LOGINS ?? [];
  if (v.EVENTSUB_CHANNELS > 0 && watchLogins.length > v.EVENTSUB_CHANNELS) {
    throw new ConfigError(
      "EVENTSUB_CHANNELS",
      `${v.EVENTSUB_CHANNELS} is fewer than the ${watchLogins.length} WATCH_USER_LOGINS, which count in it; raise it or pin fewer channels`,
    );
  }
  return {
    watchLogins,
    wsUrl: v.EVENTSUB_WS_URL,
    shards: v.EVENTSUB_SHARDS,
    channels: v.EVENTSUB_CHANNELS,
  };
}
