/**
 * A minimal raw-HTTP client of the simulator, for tests and benchmarks that
 * want to see exactly what goes over the wire (no twurple in between).
 *
 * @module
 */

import type { HelixStream } from "../helix/stream.ts";

/** What a client needs to reach a simulator. */
export interface SimEndpoint {
  url: string;
  clientId: string;
  clientSecret: string;
}

/** An answer: status, headers and parsed JSON body. */
export interface RawAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The body of a Get Streams page. */
export interface StreamsBody {
  data: HelixStream[];
  pagination: { cursor?: string };
}

/** Gets an app access token with the client-credentials flow; throws if refused. */
export async function fetchToken(sim: SimEndpoint): Promise<string> {
  const params = new URLSearchParams({
    client_id: sim.clientId,
    client_secret: sim.clientSecret,
    grant_type: "client_credentials",
  });
  const response = await fetch(`${sim.url}/auth/token?${params}`, { method: "POST" });
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`token refused: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** Calls Get Streams once with `query` (repeat a key by giving an array). */
export async function getStreams(
  sim: SimEndpoint,
  token: string,
  query: Record<string, string | string[]> = {},
): Promise<RawAnswer<StreamsBody>> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  const response = await fetch(`${sim.url}/mock/streams?${params}`, {
    headers: { Authorization: `Bearer ${token}`, "Client-Id": sim.clientId },
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Pages through Get Streams with `after` until no cursor comes back; returns every stream seen. */
export async function scanAll(
  sim: SimEndpoint,
  token: string,
  query: Record<string, string | string[]> = {},
): Promise<{ streams: HelixStream[]; pages: number }> {
  const streams: HelixStream[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const answer = await getStreams(sim, token, cursor ? { ...query, after: cursor } : query);
    if (answer.status !== 200) {
      throw new Error(`page ${pages + 1}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    streams.push(...answer.body.data);
    cursor = answer.body.pagination.cursor;
    pages++;
  } while (cursor);
  return { streams, pages };
}
