/**
 * The EventSub settings: the watchlist, the WebSocket URL and the user
 * tokens. Parsed apart from the rest so the main table stays readable.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";
import { parseList, parseToken } from "./values.ts";

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
  const get = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const rawLogins = get("WATCH_USER_LOGINS");
  const watchLogins = rawLogins === undefined ? [] : parseList("WATCH_USER_LOGINS", rawLogins, {
    pattern: /^[a-z0-9_]{1,25}$/,
    form: "Twitch logins (letters, digits, _; at most 25 characters)",
    max: 100,
    lowerCase: true,
  });
  const wsUrl = get("EVENTSUB_WS_URL");
  if (wsUrl !== undefined && !/^wss?:\/\/[^\s/]+/.test(wsUrl)) {
    throw new ConfigError(
      "EVENTSUB_WS_URL",
      `"${wsUrl}" is not a WebSocket URL; give one such as ${TWITCH_EVENTSUB_WS_URL}`,
    );
  }
  const form = "the token `twitch token -u` printed";
  const access = get("TWITCH_USER_ACCESS_TOKEN");
  const refresh = get("TWITCH_USER_REFRESH_TOKEN");
  const userAccessToken = access === undefined
    ? undefined
    : parseToken("TWITCH_USER_ACCESS_TOKEN", access, form);
  const userRefreshToken = refresh === undefined
    ? undefined
    : parseToken("TWITCH_USER_REFRESH_TOKEN", refresh, form);
  if (
    source === "twitch" && watchLogins.length > 0 && userAccessToken === undefined &&
    userRefreshToken === undefined
  ) {
    throw new ConfigError(
      "TWITCH_USER_ACCESS_TOKEN",
      "is not set but WATCH_USER_LOGINS is; set it and TWITCH_USER_REFRESH_TOKEN to a user token (`twitch token -u`), or unset WATCH_USER_LOGINS",
    );
  }
  return { watchLogins, wsUrl, userAccessToken, userRefreshToken };
}
