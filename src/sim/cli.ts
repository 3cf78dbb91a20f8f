/**
 * `deno task sim`: runs the Helix simulator on its own until Ctrl-C.
 * Settings come from `SIM_*` variables, and from `./.env` for those unset.
 *
 * @module
 */

import { parseEnv } from "node:util";
import { ConfigError } from "../config/errors.ts";
import { parseSimOptions, startSimulator } from "./mod.ts";

/** The port `deno task sim` listens on when SIM_PORT is unset, so instructions can name it. */
export const CLI_DEFAULT_PORT = "8090";

const HELP = `Usage: deno task sim

Runs a Twitch Helix simulator (GET /helix/streams and the app-token flow) on
localhost. Point a @twurple client at it with TWURPLE_MOCK_API_PORT=<port>.

Settings (environment, or ./.env):
  SIM_STREAMS          live streams at the start (default 5000)
  SIM_SEED             seed of the simulated data (default 1)
  SIM_PORT             port (default ${CLI_DEFAULT_PORT}; 0 = any free port)
  SIM_RATE_LIMIT       points per minute per client id (default 800)
  SIM_LATENCY_MS       added latency per request (default 0)
  SIM_FAULT_RATE       fraction of Get Streams requests answered with a 5xx (default 0)
  SIM_FAIL_AFTER       successful pages before every page answers 503 (default never)
  SIM_CHURN            how fast viewers and streams change; 0 = static (default 0)
  SIM_RESTART_RATE     under churn, share of ending streams whose channel goes live again (default 0.3)
  SIM_EXPIRED_STREAMS  streams listed with started_at over 48 hours ago (default 0)
  SIM_UNLISTED_LANGUAGES  streams whose language code is outside ISO 639-1 (default 0)
  SIM_TOKEN_TTL        app token lifetime in seconds (default 5184000)
`;

/** Runs the command line; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const env = { SIM_PORT: CLI_DEFAULT_PORT, ...(await readDotEnv()), ...Deno.env.toObject() };
  let options;
  try {
    options = parseSimOptions(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  let sim;
  try {
    sim = await startSimulator(options);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(`SIM_PORT: port ${options.port} is in use; expected a free port, or 0 for any`);
      return 1;
    }
    throw error;
  }
  const p = sim.port;
  console.log(
    `Helix simulator on http://localhost:${p}: ${options.streams} streams, seed ${options.seed}, ` +
      `churn ${options.churn}, rate limit ${options.rateLimit}/min`,
  );
  console.log(`  client id:     ${sim.clientId}`);
  console.log(`  client secret: ${sim.clientSecret}`);
  console.log(`  token:         POST http://localhost:${p}/auth/token`);
  console.log(`  streams:       GET  http://localhost:${p}/mock/streams`);
  console.log(`Point a twurple client at it with TWURPLE_MOCK_API_PORT=${p}, e.g.:`);
  console.log(
    `  TWURPLE_MOCK_API_PORT=${p} TWITCH_CLIENT_ID=${sim.clientId} ` +
      `TWITCH_CLIENT_SECRET=${sim.clientSecret} deno task start`,
  );
  console.log("Stop with Ctrl-C.");

  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => stop(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  const signal = await stopped;
  for (const [s, listener] of listeners) Deno.removeSignalListener(s, listener);
  await sim.close();
  const stats = sim.stats;
  console.log(
    `Stopped on ${signal} after ${stats.requests} requests (${stats.pagesServed} pages, ` +
      `${stats.rateLimited} rate-limited, ${stats.tokensIssued} tokens).`,
  );
  return 0;
}

/** The variables of `./.env`, if there is one. */
async function readDotEnv(): Promise<Record<string, string>> {
  try {
    return parseEnv(await Deno.readTextFile(".env")) as Record<string, string>;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
