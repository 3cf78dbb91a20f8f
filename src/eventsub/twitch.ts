/**
 * The Helix side of EventSub: a user access token refreshed with the app's
 * client id and secret, logins resolved to user ids (Get Users), and the
 * WebSocket subscriptions created (Create EventSub Subscription). Plain
 * fetch on the URL layout twurple uses: Twitch, or `TWURPLE_MOCK_API_PORT`'s
 * `/mock` and `/auth` paths (the simulator, the Twitch CLI's mock API).
 *
 * @module
 */

/** Where Helix and the OAuth server are. */
export interface TwitchUrls {
  /** e.g. `https://api.twitch.tv/helix` */
  helix: string;
  /** e.g. `https://id.twitch.tv/oauth2` */
  auth: string;
}

/** Twitch's URLs, or a local mock's when `mockPort` is set (as twurple does). */
export function twitchUrls(mockPort?: string): TwitchUrls {
  return mockPort
    ? { helix: `http://localhost:${mockPort}/mock`, auth: `http://localhost:${mockPort}/auth` }
    : { helix: "https://api.twitch.tv/helix", auth: "https://id.twitch.tv/oauth2" };
}

/** The credentials and where to use them. */
export interface EventSubApiOptions {
  urls: TwitchUrls;
  clientId: string;
  clientSecret: string;
  /** The user access token; without one, the first call refreshes. */
  accessToken?: string;
  refreshToken?: string;
  /** Timeout of one request (default 10 s). */
  timeoutMs?: number;
}

/** What the service asks of Helix for EventSub. */
export interface EventSubApi {
  /** User ids of the logins Helix knows (login, lower case -> id). */
  userIds(logins: readonly string[]): Promise<Map<string, string>>;
  /** Subscribes the session to one event of one channel. */
  subscribe(type: string, userId: string, sessionId: string): Promise<void>;
}

/** An EventSub API failure, one line, without tokens. */
export class EventSubApiError extends Error {
  /** HTTP status, when there was an answer. */
  readonly status?: number;
  /** @param message What failed and what to do. */
  constructor(message: string, status?: number) {
    super(message);
    this.name = "EventSubApiError";
    this.status = status;
  }
}

/** Creates the API edge (no request until the first call). */
export function createEventSubApi(options: EventSubApiOptions): EventSubApi {
  let accessToken = options.accessToken;
  let refreshToken = options.refreshToken;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function refresh(): Promise<string> {
    if (refreshToken === undefined) {
      throw new EventSubApiError(
        "the user access token was refused and there is no refresh token; set TWITCH_USER_REFRESH_TOKEN or a new TWITCH_USER_ACCESS_TOKEN",
      );
    }
    const body = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: options.clientId,
      client_secret: options.clientSecret,
    });
    const response = await fetch(`${options.urls.auth}/token`, {
      method: "POST",
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.access_token !== "string") {
      throw new EventSubApiError(
        `refreshing the user token failed (${response.status}); check TWITCH_USER_REFRESH_TOKEN and that it belongs to TWITCH_CLIENT_ID`,
        response.status,
      );
    }
    accessToken = answer.access_token;
    if (typeof answer.refresh_token === "string") refreshToken = answer.refresh_token;
    return answer.access_token;
  }

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    for (let attempt = 1;; attempt++) {
      const token = accessToken ?? await refresh();
      const response = await fetch(`${options.urls.helix}/${path}`, {
        ...init,
        headers: {
          ...init.headers,
          "Authorization": `Bearer ${token}`,
          "Client-Id": options.clientId,
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 401 || attempt > 1) return response;
      await response.body?.cancel();
      accessToken = undefined;
    }
  }

  return {
    async userIds(logins) {
      const ids = new Map<string, string>();
      for (let i = 0; i < logins.length; i += 100) {
        const query = new URLSearchParams(logins.slice(i, i + 100).map((l) => ["login", l]));
        const response = await call(`users?${query}`);
        if (!response.ok) {
          await response.body?.cancel();
          throw new EventSubApiError(
            `looking up WATCH_USER_LOGINS failed (Helix answered ${response.status})`,
            response.status,
          );
        }
        const answer = await response.json() as { data?: { id: string; login: string }[] };
        for (const user of answer.data ?? []) ids.set(user.login.toLowerCase(), user.id);
      }
      return ids;
    },
    async subscribe(type, userId, sessionId) {
      const response = await call("eventsub/subscriptions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          type,
          version: "1",
          condition: { broadcaster_user_id: userId },
          transport: { method: "websocket", session_id: sessionId },
        }),
      });
      if (response.ok || response.status === 409) {
        await response.body?.cancel();
        return;
      }
      const text = await response.text();
      let message = "";
      try {
        message = String(JSON.parse(text).message ?? "");
      } catch { /* not JSON */ }
      throw new EventSubApiError(
        `subscribing to ${type} of user ${userId} failed (${response.status}${
          message ? ` ${message}` : ""
        })`,
        response.status,
      );
    },
  };
}
