/**
 * Twitch Data Generator: every live stream from Twitch's Helix API as keyed
 * records in a Kafka topic, on a schedule.
 *
 * Read top to bottom, this is the whole service: parse the configuration,
 * build the edges (logging, the stream source, Kafka), then run the chosen
 * mode (dry run, one scan, or the scheduled service with its health
 * endpoint) until done.
 *
 * @module
 */

import {
  type Config,
  mergeEnvironment,
  parseConfig,
  parseHttpSettings,
} from "./src/config/config.ts";
import { type Flags, parseFlags } from "./src/config/flags.ts";
import { SETTING_NAMES } from "./src/config/settings.ts";
import { usage } from "./src/config/usage.ts";
import { ConfigError } from "./src/config/errors.ts";
import { logProcessWarnings, setupLogging } from "./src/ops/log.ts";
import { probeHealth } from "./src/ops/http.ts";
import { createMetrics } from "./src/ops/metrics.ts";
import { warnAboutMemoryLimit } from "./src/ops/memory.ts";
import { createHelixSource } from "./src/helix/client.ts";
import { kafkaClientConfig } from "./src/kafka/client.ts";
import type { KafkaConfig } from "kafkajs";
import { dryRun, runOnce, runService } from "./src/service/mod.ts";
import { VERSION } from "./src/version.ts";
import { startSimulator } from "./src/sim/mod.ts";
import { TWITCH_EVENTSUB_WS_URL } from "./src/config/eventsub.ts";
import { createEventSubApi, twitchUrls } from "./src/eventsub/twitch.ts";
import { createEventSubGate } from "./src/eventsub/pace.ts";
import { createSharedLimiter } from "./src/helix/limiter.ts";

/** Runs the service with the given command-line arguments; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  // 1. Configuration: flags, `.env`, environment. Bad input exits 2 with one line.
  let flags: Flags;
  let config: Config;
  let kafkaConfig: KafkaConfig;
  try {
    flags = parseFlags(args);
    if (flags.help) return print(usage());
    if (flags.version) return print(`twitch-datagen ${VERSION}`);
    const env = mergeEnvironment(readOwnVariables(), {
      envFileText: await readEnvFile(flags.envFile),
      overrides: flags.overrides,
    });
    if (flags.healthcheck) return await probeHealth(parseHttpSettings(env));
    config = parseConfig(env, {
      once: flags.once,
      dryRun: flags.dryRun,
      audit: flags.audit,
      stderrIsTerminal: Deno.stderr.isTerminal(),
    });
    kafkaConfig = await kafkaClientConfig(config.kafka);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }

  // 2. Edges: logs, the stream source (Twitch, or the simulator behind the same client), Kafka.
  await setupLogging(config.log);
  logProcessWarnings();
  warnAboutMemoryLimit();
  const metrics = createMetrics();
  const simulator = config.sim ? await startSimulator(config.sim) : null;
  const credentials = simulator
    ? { clientId: simulator.clientId, clientSecret: simulator.clientSecret }
    : config.twitch;
  if (simulator) Deno.env.set("TWURPLE_MOCK_API_PORT", String(simulator.port));
  // One rate bucket for the client id: the scans and EventSub (a bounded share) draw on it.
  const limiter = createSharedLimiter();
  const source = createHelixSource({
    ...credentials,
    limiter,
    timeoutMs: config.scan.requestTimeoutMs,
    onRequest: (status) => metrics.helixRequests.inc({ status: String(status) }),
    onRateLimitWait: () => metrics.rateLimitWaits.inc(),
    othersSpent: () => metrics.eventsubPoints.taken(),
  });
  const { eventsub } = config;
  const watching = eventsub.channels > 0 && !config.once && !config.dryRun;
  const context = {
    config,
    source,
    metrics,
    eventsub: watching
      ? {
        url: eventsub.wsUrl ?? simulator?.eventSubUrl ?? TWITCH_EVENTSUB_WS_URL,
        shards: eventsub.shards,
        // The app's credentials: a conduit needs no user token.
        api: createEventSubApi({
          urls: twitchUrls(Deno.env.get("TWURPLE_MOCK_API_PORT")),
          ...credentials,
          gate: createEventSubGate(limiter, { onPoint: () => metrics.eventsubPoints.inc() }),
        }),
      }
      : undefined,
  };

  // 3. The mode: print one scan, produce one scan, or scan on the schedule.
  try {
    if (config.dryRun) return await dryRun(context);
    if (config.once) return await runOnce(context, kafkaConfig);
    return await runService(context, kafkaConfig);
  } finally {
    await simulator?.close();
  }
}

/** Reads the service's own variables, and only those: the permission set grants no others. */
function readOwnVariables(): Record<string, string | undefined> {
  const env: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Reads `--env-file PATH`, or `.env` in the working directory when there is one. */
async function readEnvFile(path: string | undefined): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path ?? ".env");
  } catch (error) {
    if (path === undefined && error instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(
      "--env-file",
      `cannot read "${path ?? ".env"}" (${(error as Error).name}); give a readable file`,
    );
  }
}

function print(text: string): number {
  console.log(text);
  return 0;
}

function fail(message: string): number {
  console.error(`error: ${message}`);
  return 2;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
