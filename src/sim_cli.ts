/**
 * `deno task sim`: runs the Helix simulator on its own until Ctrl-C.
 * Settings come from `SIM_*` variables, and from `./.env` for those unset.
 *
 * @module
 */

import { mergeEnvironment } from "./config/config.ts";
import { ConfigError } from "./config/errors.ts";
import { settingsOf } from "./config/settings.ts";
import { parseSimOptions } from "./config/simulator.ts";
import { settingLines } from "./config/usage.ts";
import { startSimulator } from "./sim/mod.ts";

/** The port `deno task sim` listens on when SIM_PORT is unset, so instructions can name it. */
export const CLI_DEFAULT_PORT = "8090";

function help(): string {
  return [
    "Usage: deno task sim",
    "",
    "Runs a Twitch Helix simulator (GET /helix/streams and the app-token flow) on",
    "localhost. Point a @twurple client at it with TWURPLE_MOCK_API_PORT=<port>.",
    "",
    "Settings (environment, or ./.env):",
    ...settingLines(settingsOf("sim"), { SIM_PORT: CLI_DEFAULT_PORT }),
    "",
  ].join("\n");
}

/** Runs the command line; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(help());
    return 0;
  }
  const env = {
    SIM_PORT: CLI_DEFAULT_PORT,
    ...mergeEnvironment(Deno.env.toObject(), { envFileText: await readDotEnv() }),
  };
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

/** The text of `./.env`, if there is one. */
async function readDotEnv(): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(".env");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
