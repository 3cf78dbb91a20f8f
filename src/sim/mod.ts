/**
 * A Helix simulator: Twitch's `GET /helix/streams` and app-token flow over
 * deterministic simulated data, for running the service without Twitch.
 * Point `@twurple` at it with `TWURPLE_MOCK_API_PORT=<port>`.
 *
 * @module
 */

import { createTokenStore, revokeAll } from "./auth.ts";
import { advanceWorld } from "./churn.ts";
import type { HelixStream } from "../helix/stream.ts";
import { streamId } from "./data.ts";
import { defaultSimulatorOptions, type SimulatorOptions } from "./options.ts";
import { hash32, Prng } from "./prng.ts";
import { createHandler, type ServerState, type SimulatorStats } from "./server.ts";
import { createWorld, liveIndices, streamAt } from "./world.ts";
import { createSimEventSub, type SimEventSub } from "./eventsub.ts";

export { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from "./options.ts";
export type { SimulatorOptions } from "./options.ts";
export type { SimulatorStats } from "./server.ts";
export { generateStream, generateStreams } from "./data.ts";

/** A running simulator. */
export interface Simulator extends AsyncDisposable {
  /** The port it listens on (what `TWURPLE_MOCK_API_PORT` must be). */
  readonly port: number;
  /** The address it listens on. */
  readonly hostname: string;
  /** Base URL, e.g. `http://localhost:8090`. */
  readonly url: string;
  /** The client id it accepts. */
  readonly clientId: string;
  /** The client secret it accepts. */
  readonly clientSecret: string;
  /** A refresh token for the simulated user's access token (EventSub). */
  readonly userRefreshToken: string;
  /** Its EventSub WebSocket endpoint, e.g. `ws://localhost:8090/ws`. */
  readonly eventSubUrl: string;
  /** Its EventSub side: events sent, and dropped or moved connections for tests. */
  readonly eventsub: SimEventSub;
  /** A snapshot of what it has answered so far. */
  readonly stats: SimulatorStats;
  /** Ids of the streams live right now, highest viewer count first: the truth a scan is judged by. */
  liveIds(): string[];
  /** The streams live right now, as Helix would send them, highest viewer count first. */
  liveStreams(): HelixStream[];
  /** Invalidates every token issued so far (the next Helix call with one answers 401). */
  revokeTokens(): void;
  /** Stops listening and waits for requests in flight. */
  close(): Promise<void>;
}

/** Starts a simulator; unset options take their defaults. Rejects if the port cannot be had. */
// deno-lint-ignore require-await -- listening is synchronous, but a taken port must reject, not throw.
export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const settings: SimulatorOptions = { ...defaultSimulatorOptions(), ...withoutUndefined(options) };
  const clock = settings.clock ?? Date.now;
  const world = createWorld({
    seed: settings.seed,
    streams: settings.streams,
    expiredStreams: settings.expiredStreams,
    unlistedStreams: settings.unlistedStreams,
    hostileTitles: settings.hostileTitles,
    churn: settings.churn,
    restartRate: settings.restartRate,
    epoch: Math.floor(clock() / 1000) * 1000,
    keepEndedMs: settings.cacheLagSeconds * 1000,
  });
  const state: ServerState = {
    options: settings,
    clock,
    world,
    tokens: createTokenStore(settings.clientId, settings.clientSecret, {
      ttlSeconds: settings.tokenTtlSeconds,
    }),
    buckets: new Map(),
    faults: new Prng(hash32(settings.seed, 0xfa17)),
    quirks: new Prng(hash32(settings.seed, 0xcace)),
    cursorKey: crypto.getRandomValues(new Uint32Array(1))[0],
    cursorNonce: 0,
    stats: { requests: 0, byStatus: {}, rateLimited: 0, tokensIssued: 0, pagesServed: 0 },
  };
  let baseUrl = "";
  state.eventsub = createSimEventSub(world, {
    clock,
    baseUrl: () => baseUrl,
    clientId: settings.clientId,
    maxAppCost: settings.eventSubMaxCost,
    unusedMs: settings.eventSubUnusedMs,
  });
  const servers = listen(settings.hostname, settings.port, createHandler(state));
  const port = servers[0].addr.port;
  baseUrl = `ws://localhost:${port}`;
  let closed: Promise<void> | undefined;

  function close(): Promise<void> {
    state.eventsub?.close();
    closed ??= Promise.all(servers.map((s) => s.shutdown())).then(() => {});
    return closed;
  }

  return {
    port,
    hostname: settings.hostname,
    url: `http://localhost:${port}`,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    userRefreshToken: state.tokens.userRefreshToken,
    eventSubUrl: `${baseUrl}/ws`,
    eventsub: state.eventsub,
    get stats(): SimulatorStats {
      return structuredClone(state.stats);
    },
    liveIds(): string[] {
      advanceWorld(world, clock(), { request: false });
      return liveIndices(world).map((i) => streamId(settings.seed, i));
    },
    liveStreams(): HelixStream[] {
      advanceWorld(world, clock(), { request: false });
      return liveIndices(world).map((i) => streamAt(world, i));
    },
    revokeTokens(): void {
      revokeAll(state.tokens);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Listens on `hostname`; for 127.0.0.1 also on ::1 at the same port where the machine has
 * IPv6, because clients resolve `localhost` to either.
 */
function listen(
  hostname: string,
  port: number,
  handler: (request: Request) => Promise<Response>,
): Deno.HttpServer<Deno.NetAddr>[] {
  const first = Deno.serve({ hostname, port, onListen() {} }, handler);
  const servers = [first];
  if (hostname === "127.0.0.1") {
    try {
      servers.push(Deno.serve({ hostname: "::1", port: first.addr.port, onListen() {} }, handler));
    } catch {
      // No IPv6 loopback here: localhost is 127.0.0.1 only.
    }
  }
  return servers;
}

function withoutUndefined(options: Partial<SimulatorOptions>): Partial<SimulatorOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
