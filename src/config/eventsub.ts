/**
 * The EventSub settings: the watchlist, the WebSocket URL and the user
 * tokens. Parsed apart from the rest so the main table stays readable.
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
  /** User access token (SOURCE=twitch). */
  userAccessToken?: string;
  /** Refresh token of that user token (SOURCE=twitch). */
  userRefreshToken?: string;
}

/** Validates the EventSub settings. @throws {ConfigError} naming the setting at fault. */
export function parseEventSubConfig(
  env: Record<string, string | undefined>,
  source: "twitch" | "simulated",
): EventSubConfig {
  const v = readSettings(env, [
    "WATCH_USER_LOGINS",
    "EVENTSUB_WS_URL",
    "TWITCH_USER_ACCESS_TOKEN",
    "TWITCH_USER_REFRESH_TOKEN",
  ]);
  const watchLogins = v.WATCH_USER_LOGINS ?? [];
  if (
    source === "twitch" && watchLogins.length > 0 && v.TWITCH_USER_ACCESS_TOKEN === undefined &&
    v.TWITCH_USER_REFRESH_TOKEN === undefined
  ) {
    throw new ConfigError(
      "TWITCH_USER_ACCESS_TOKEN",
      "is not set but WATCH_USER_LOGINS is; set it and TWITCH_USER_REFRESH_TOKEN to a user token (`twitch token -u`), or unset WATCH_USER_LOGINS",
    );
  }
  return {
    watchLogins,
    wsUrl: v.EVENTSUB_WS_URL,
    userAccessToken: v.TWITCH_USER_ACCESS_TOKEN,
    userRefreshToken: v.TWITCH_USER_REFRESH_TOKEN,
  };
}
