/**
 * The Helix side of EventSub on the app's credentials: an app access token
 * (client-credentials grant, refreshed once however many calls see 401),
 * logins resolved to user ids (Get Users), the conduit calls, and the
 * subscriptions with the conduit transport. Plain fetch on the URL layout
 * twurple uses: Twitch, or `TWURPLE_MOCK_API_PORT`'s `/mock` and `/auth`
 * paths (the simulator). Each request first passes `gate`, so that the
 * shared rate bucket can pace EventSub beside the scans.
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
  /** Timeout of one request (default 10 s). */
  timeoutMs?: number;
  /** The shared rate bucket's gate each Helix request passes (default: none). */
  gate?: {
    gate(): Promise<void>;
    answered(status: number, headers: Headers): void;
    abandoned(): void;
  };
}

/** A conduit: its id and number of shards. */
export interface Conduit {
  id: string;
  shardCount: number;
}

/** One of our subscriptions as Helix lists it. */
export interface ListedSubscription {
  id: string;
  type: string;
  status: string;
  /** `condition.broadcaster_user_id`, or "" for other conditions. */
  userId: string;
  /** The conduit of a conduit subscription, else "". */
  conduitId: string;
}

/** Twitch's totals for the client id: `total`, `total_cost`, `max_total_cost`. */
export interface CostTotals {
  total: number;
  totalCost: number;
  maxTotalCost: number;
}

/** What a create answered: made now, or already there (409). */
export type SubscribeOutcome =
  | ({ created: true; id: string } & CostTotals)
  | { created: false };

/** What the service asks of Helix for EventSub. */
export interface EventSubApi {
  /** The app's client id (the condition of `conduit.shard.disabled`). */
  readonly clientId: string;
  /** User ids of the logins Helix knows (login, lower case -> id). */
  userIds(logins: readonly string[]): Promise<Map<string, string>>;
  /** The client id's conduits. */
  conduits(): Promise<Conduit[]>;
  /** Creates a conduit with `shardCount` shards. */
  createConduit(shardCount: number): Promise<Conduit>;
  /** Sets a conduit's number of shards. */
  updateConduit(id: string, shardCount: number): Promise<Conduit>;
  /** Assigns WebSocket sessions to shards; answers the ids assigned and those refused, with why. */
  assignShards(
    conduitId: string,
    shards: readonly { id: string; sessionId: string }[],
  ): Promise<{ assigned: string[]; refused: { id: string; message: string }[] }>;
  /** Subscribes the conduit to one event of one channel (or of the conduit's shards). */
  subscribe(
    type: string,
    condition: Record<string, string>,
    conduitId: string,
  ): Promise<SubscribeOutcome>;
  /** Every subscription of the client id (all pages), and Twitch's totals. */
  subscriptions(): Promise<{ data: ListedSubscription[] } & CostTotals>;
  /** Deletes a subscription; one already gone counts as deleted. */
  unsubscribe(id: string): Promise<void>;
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

// deno-lint-ignore no-explicit-any
type Json = any;

/** Creates the API edge (no request until the first call). */
export function createEventSubApi(options: EventSubApiOptions): EventSubApi {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let accessToken: string | undefined;
  /** The one refresh under way: every caller that saw 401 waits for it. */
  let refreshing: Promise<string> | null = null;

  function token(): Promise<string> {
    if (accessToken !== undefined) return Promise.resolve(accessToken);
    refreshing ??= grant().finally(() => refreshing = null);
    return refreshing;
  }

  async function grant(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: "client_credentials",
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
        `getting an app access token failed (${response.status}); check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET`,
        response.status,
      );
    }
    accessToken = answer.access_token;
    return answer.access_token;
  }

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    for (let attempt = 1;; attempt++) {
      const used = await token();
      await options.gate?.gate();
      let response: Response;
      try {
        response = await fetch(`${options.urls.helix}/${path}`, {
          ...init,
          headers: {
            ...init.headers,
            "Authorization": `Bearer ${used}`,
            "Client-Id": options.clientId,
            ...(init.body ? { "Content-Type": "application/json" } : {}),
          },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        options.gate?.abandoned();
        throw error;
      }
      options.gate?.answered(response.status, response.headers);
      if (response.status !== 401 || attempt > 1) return response;
      await response.body?.cancel();
      // Only the first caller to see this token refused drops it; the rest share its refresh.
      if (accessToken === used) accessToken = undefined;
    }
  }

  async function json(what: string, response: Response, ok: number[] = [200]): Promise<Json> {
    if (ok.includes(response.status)) return response.status === 204 ? null : response.json();
    const text = await response.text();
    let message = "";
    try {
      message = String(JSON.parse(text).message ?? "");
    } catch { /* not JSON */ }
    throw new EventSubApiError(
      `${what} failed (${response.status}${message ? ` ${message}` : ""})`,
      response.status,
    );
  }

  const send = (method: string, body: unknown): RequestInit => ({
    method,
    body: JSON.stringify(body),
  });
  const conduitOf = (c: Json): Conduit => ({ id: String(c.id), shardCount: Number(c.shard_count) });
  const totalsOf = (a: Json): CostTotals => ({
    total: Number(a.total ?? 0),
    totalCost: Number(a.total_cost ?? 0),
    maxTotalCost: Number(a.max_total_cost ?? 0),
  });

  return {
    clientId: options.clientId,
    async userIds(logins) {
      const ids = new Map<string, string>();
      for (let i = 0; i < logins.length; i += 100) {
        const query = new URLSearchParams(logins.slice(i, i + 100).map((l) => ["login", l]));
        const answer = await json("looking up WATCH_USER_LOGINS", await call(`users?${query}`));
        for (const user of answer.data ?? []) ids.set(String(user.login).toLowerCase(), user.id);
      }
      return ids;
    },
    async conduits() {
      const answer = await json("listing the conduits", await call("eventsub/conduits"));
      return (answer.data ?? []).map(conduitOf);
    },
    async createConduit(shardCount) {
      const response = await call("eventsub/conduits", send("POST", { shard_count: shardCount }));
      return conduitOf((await json("creating a conduit", response)).data[0]);
    },
    async updateConduit(id, shardCount) {
      const response = await call(
        "eventsub/conduits",
        send("PATCH", { id, shard_count: shardCount }),
      );
      return conduitOf((await json("resizing the conduit", response)).data[0]);
    },
    async assignShards(conduitId, shards) {
      const response = await call(
        "eventsub/conduits/shards",
        send("PATCH", {
          conduit_id: conduitId,
          shards: shards.map((s) => ({
            id: s.id,
            transport: { method: "websocket", session_id: s.sessionId },
          })),
        }),
      );
      const answer = await json("assigning conduit shards", response, [200, 202]);
      return {
        assigned: (answer.data ?? []).map((s: Json) => String(s.id)),
        refused: (answer.errors ?? []).map((e: Json) => ({
          id: String(e.id),
          message: String(e.message ?? e.code ?? ""),
        })),
      };
    },
    async subscribe(type, condition, conduitId) {
      const response = await call(
        "eventsub/subscriptions",
        send("POST", {
          type,
          version: "1",
          condition,
          transport: { method: "conduit", conduit_id: conduitId },
        }),
      );
      if (response.status === 409) {
        await response.body?.cancel();
        return { created: false };
      }
      const what = `subscribing to ${type} of ${Object.values(condition).join(",")}`;
      const answer = await json(what, response, [202]);
      return { created: true, id: String(answer.data?.[0]?.id), ...totalsOf(answer) };
    },
    async subscriptions() {
      const data: ListedSubscription[] = [];
      let totals: CostTotals = { total: 0, totalCost: 0, maxTotalCost: 0 };
      let after: string | undefined;
      do {
        const query = after ? `?${new URLSearchParams({ after })}` : "";
        const answer = await json(
          "listing EventSub subscriptions",
          await call(`eventsub/subscriptions${query}`),
        );
        totals = totalsOf(answer);
        for (const s of answer.data ?? []) {
          data.push({
            id: String(s.id),
            type: String(s.type),
            status: String(s.status),
            userId: String(s.condition?.broadcaster_user_id ?? ""),
            conduitId: s.transport?.method === "conduit" ? String(s.transport.conduit_id) : "",
          });
        }
        after = answer.pagination?.cursor || undefined;
      } while (after !== undefined);
      return { data, ...totals };
    },
    async unsubscribe(id) {
      const response = await call(`eventsub/subscriptions?${new URLSearchParams({ id })}`, {
        method: "DELETE",
      });
      await json(`deleting subscription ${id}`, response, [204, 404]);
    },
  };
}
