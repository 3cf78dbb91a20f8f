/**
 * The simulator's HTTP handler: Twitch's OAuth token endpoint under
 * `/auth/...` and Get Streams under `/mock/streams`, the layout
 * `@twurple` uses when `TWURPLE_MOCK_API_PORT` is set. Auth, rate limit,
 * validation, injected failures and churn are applied here, in that order.
 *
 * @module
 */

import {
  checkHelixAuth,
  type JsonAnswer,
  requestToken,
  SIM_USER_ID,
  tokenKind,
  type TokenStore,
  validateToken,
} from "./auth.ts";
import { advanceWorld } from "./churn.ts";
import { encodeCursor } from "./cursor.ts";
import type { SimulatorOptions } from "./options.ts";
import { type CacheView, selectPage } from "./page.ts";
import { Prng } from "./prng.ts";
import { parseStreamsQuery } from "./query.ts";
import {
  type Bucket,
  createBucket,
  peekPoints,
  rateLimitHeaders,
  type RateLimitState,
  takePoints,
} from "./rate_limit.ts";
import { streamAt, type World } from "./world.ts";
import type { SimEventSub } from "./eventsub.ts";
import type { Owner } from "./eventsub_registry.ts";
import { indexOfLogin } from "./data.ts";

/** Counts of what the simulator answered. */
export interface SimulatorStats {
  /** Every request. */
  requests: number;
  /** Requests by HTTP status, e.g. `{ "200": 50, "429": 3 }`. */
  byStatus: Record<string, number>;
  /** Requests refused with 429. */
  rateLimited: number;
  /** Access tokens issued. */
  tokensIssued: number;
  /** Get Streams pages served (200 answers). */
  pagesServed: number;
}

/** Everything the handler works on. */
export interface ServerState {
  readonly options: SimulatorOptions;
  readonly clock: () => number;
  readonly world: World;
  readonly tokens: TokenStore;
  readonly buckets: Map<string, Bucket>;
  /** Draws of injected faults, seeded so a run can be repeated. */
  readonly faults: Prng;
  /** Draws of Helix's quirks (cache node, empty page, bad cursor), apart from the faults'. */
  readonly quirks: Prng;
  /** Signs cursors so that only this simulator's are accepted. */
  readonly cursorKey: number;
  cursorNonce: number;
  readonly stats: SimulatorStats;
  /** EventSub over WebSocket and its subscription endpoints. */
  eventsub?: SimEventSub;
}

const HELIX_JSON = "application/json; charset=utf-8";

/** Creates the request handler. */
export function createHandler(state: ServerState): (request: Request) => Promise<Response> {
  return async function handle(request: Request): Promise<Response> {
    if (state.options.latencyMs > 0) await sleep(state.options.latencyMs);
    const response = await route(state, request);
    state.stats.requests++;
    const key = String(response.status);
    state.stats.byStatus[key] = (state.stats.byStatus[key] ?? 0) + 1;
    return response;
  };
}

async function route(state: ServerState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const now = state.clock();
  if (url.pathname === "/auth/token" && request.method === "POST") {
    const params = new URLSearchParams(url.search);
    const type = request.headers.get("content-type") ?? "";
    if (type.startsWith("application/x-www-form-urlencoded")) {
      for (const [k, v] of new URLSearchParams(await request.text())) params.append(k, v);
    }
    const answer = requestToken(state.tokens, params, now);
    state.stats.tokensIssued = state.tokens.issued;
    return json(answer, "application/json");
  }
  if (url.pathname === "/auth/validate" && request.method === "GET") {
    return json(
      validateToken(state.tokens, request.headers.get("authorization"), now),
      "application/json",
    );
  }
  if (url.pathname === "/mock/streams" && request.method === "GET") {
    return getStreams(state, request, url, now);
  }
  if (url.pathname === "/ws" && state.eventsub) return state.eventsub.upgrade(request);
  if (url.pathname.startsWith("/mock/eventsub/") && state.eventsub) {
    const denied = authorized(state, request, now);
    if (denied) return denied;
    const owner: Owner = tokenKind(state.tokens, request.headers.get("authorization")) === "user"
      ? { kind: "user", userId: SIM_USER_ID }
      : { kind: "app" };
    // EventSub calls are Helix requests: each takes a point of the caller's bucket.
    const key = `${request.headers.get("client-id")}${owner.kind === "user" ? ":user" : ""}`;
    const limit = takePoints(bucketOf(state, key, now), now);
    if (!limit.allowed) {
      state.stats.rateLimited++;
      return helixError(429, "Too Many Requests", "Too Many Requests", limit);
    }
    const response = await state.eventsub.handle(request, url, owner);
    for (const [name, value] of Object.entries(rateLimitHeaders(limit))) {
      response.headers.set(name, value);
    }
    return response;
  }
  if (url.pathname === "/mock/users" && request.method === "GET") {
    return authorized(state, request, now) ?? getUsers(state, url, now);
  }
  return json({ status: 404, body: { error: "Not Found", status: 404, message: "" } }, HELIX_JSON);
}

function getStreams(state: ServerState, request: Request, url: URL, now: number): Response {
  const clientId = request.headers.get("client-id");
  const denied = checkHelixAuth(state.tokens, {
    authorization: request.headers.get("authorization"),
    clientId,
  }, now);
  if (denied) {
    // Helix still reports the bucket of a client it recognises.
    const known = clientId !== null && state.buckets.has(clientId);
    const headers = known ? rateLimitHeaders(peekPoints(state.buckets.get(clientId)!, now)) : {};
    return json(denied, HELIX_JSON, headers);
  }

  const limit = takePoints(bucketOf(state, clientId!, now), now);
  if (!limit.allowed) {
    state.stats.rateLimited++;
    return helixError(429, "Too Many Requests", "Too Many Requests", limit);
  }
  const query = parseStreamsQuery(url.searchParams, { cursorKey: state.cursorKey });
  if (typeof query === "string") return helixError(400, "Bad Request", query, limit);
  const { badCursorRate, emptyPageRate, cursorLoop } = state.options;
  const position = query.after ?? query.before;
  if (position && badCursorRate > 0 && state.quirks.next() < badCursorRate) {
    return helixError(400, "Bad Request", "invalid cursor", limit);
  }

  const { failAfter, faultRate } = state.options;
  if (failAfter !== undefined && state.stats.pagesServed >= failAfter) {
    return helixError(503, "Service Unavailable", "", limit);
  }
  if (faultRate > 0 && state.faults.next() < faultRate) {
    return state.faults.chance(0.5)
      ? helixError(500, "Internal Server Error", "", limit)
      : helixError(503, "Service Unavailable", "", limit);
  }

  advanceWorld(state.world, now, { request: true });
  const page = selectPage(state.world, query, cacheView(state, now));
  let next = page.next;
  let indices = page.indices;
  if (next === undefined && query.after && emptyPageRate > 0 && page.indices.length > 0) {
    // Near the end, a cursor sometimes answers an empty page whose cursor goes on from there.
    if (state.quirks.next() < emptyPageRate) [indices, next] = [[], query.after];
  }
  // The last page's cursor leads back to the first page: scores below the highest possible.
  if (next === undefined && cursorLoop) next = { first: Number.MAX_VALUE, last: Number.MAX_VALUE };
  const data = indices.map((i) => streamAt(state.world, i));
  const pagination = next
    ? { cursor: encodeCursor(next, { key: state.cursorKey, nonce: ++state.cursorNonce }) }
    : {};
  state.stats.pagesServed++;
  return new Response(JSON.stringify({ data, pagination }), {
    status: 200,
    headers: { "Content-Type": HELIX_JSON, ...rateLimitHeaders(limit) },
  });
}

/** The 401 of a Helix call without a good token, or null. */
function authorized(state: ServerState, request: Request, now: number): Response | null {
  const denied = checkHelixAuth(state.tokens, {
    authorization: request.headers.get("authorization"),
    clientId: request.headers.get("client-id"),
  }, now);
  return denied ? json(denied, HELIX_JSON) : null;
}

/** How many cache nodes answer Helix's requests, each refreshed at its own moment. */
const CACHE_NODES = 5;

/**
 * The cache node that answers this request, or none (a coherent, current answer). Node k
 * refreshes its snapshot every `SIM_CACHE_LAG_S`, offset by k fifths of that, so at any moment
 * the nodes are between 0 and `SIM_CACHE_LAG_S` behind and disagree with each other.
 */
function cacheView(state: ServerState, now: number): CacheView | undefined {
  const { cacheLagSeconds, onlineLagSeconds } = state.options;
  if (cacheLagSeconds <= 0 && onlineLagSeconds <= 0) return undefined;
  const onlineLagMs = onlineLagSeconds * 1000;
  if (cacheLagSeconds <= 0) return { snapshot: now, onlineLagMs };
  const period = cacheLagSeconds * 1000;
  const phase = (state.quirks.int(0, CACHE_NODES - 1) * period) / CACHE_NODES;
  const age = (((now + phase) % period) + period) % period;
  return { snapshot: now - age, onlineLagMs };
}

/** Get Users by login: the channels of the world's streams (live or not) the cache node knows. */
function getUsers(state: ServerState, url: URL, now: number): Response {
  const data = [];
  const view = cacheView(state, now);
  for (const login of url.searchParams.getAll("login")) {
    const index = indexOfLogin(state.world.options.seed, login.toLowerCase());
    if (index < 0 || index >= state.world.size) continue;
    if (view && state.world.liveSince[index] > view.snapshot) continue;
    const stream = streamAt(state.world, index);
    if (stream.user_login !== login.toLowerCase()) continue;
    data.push({
      id: stream.user_id,
      login: stream.user_login,
      display_name: stream.user_name,
      type: "",
      broadcaster_type: "",
      description: "",
      created_at: "2020-01-01T00:00:00Z",
    });
  }
  return new Response(JSON.stringify({ data }), {
    status: 200,
    headers: { "Content-Type": HELIX_JSON },
  });
}

function bucketOf(state: ServerState, clientId: string, now: number): Bucket {
  let bucket = state.buckets.get(clientId);
  if (!bucket) {
    bucket = createBucket(state.options.rateLimit, now, state.options.refillPerMinute);
    state.buckets.set(clientId, bucket);
  }
  return bucket;
}

function helixError(
  status: number,
  error: string,
  message: string,
  limit: RateLimitState,
): Response {
  return new Response(JSON.stringify({ error, status, message }), {
    status,
    headers: { "Content-Type": HELIX_JSON, ...rateLimitHeaders(limit) },
  });
}

function json(
  answer: JsonAnswer,
  contentType: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { "Content-Type": contentType, ...headers },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
