/**
 * `deno task kafka`: a local Kafka broker for development on 127.0.0.1:9092,
 * keeping its topics in `.cache/kafka` between runs. Ctrl-C stops it.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseInteger } from "../../src/config/values.ts";
import { type KafkaBroker, startKafkaBroker } from "./broker.ts";

const USAGE = `Usage: deno task kafka [--port N] [--data-dir DIR] [--fresh]

Runs a single-node Apache Kafka broker (KRaft) on 127.0.0.1 until Ctrl-C.

  --port N         client port (default: KAFKA_PORT or 9092)
  --data-dir DIR   where topics are kept between runs (default: .cache/kafka)
  --fresh          delete the data directory first
  --help           show this help

Needs Java 17+ and Maven (the broker's jars are fetched on first run).`;

/** Parsed command line of the `kafka` task. */
export interface KafkaCliOptions {
  port: number;
  dataDir: string;
  fresh: boolean;
  help: boolean;
}

/**
 * Reads the task's flags and environment; throws a one-line message for a
 * value that cannot be used.
 */
export function parseKafkaCli(
  args: string[],
  env: Record<string, string | undefined>,
): KafkaCliOptions {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      "data-dir": { type: "string" },
      fresh: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = parseInteger(
    values.port === undefined ? "KAFKA_PORT" : "--port",
    values.port ?? env.KAFKA_PORT ?? "9092",
    { min: 1, max: 65535, form: "a port from 1 to 65535" },
  );
  const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
  return {
    port,
    dataDir: values["data-dir"] ?? `${repoRoot}.cache/kafka`,
    fresh: values.fresh,
    help: values.help,
  };
}

async function main(): Promise<number> {
  let options: KafkaCliOptions;
  try {
    options = parseKafkaCli(Deno.args, Deno.env.toObject());
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.fresh) await Deno.remove(options.dataDir, { recursive: true }).catch(() => {});

  // Stop signals can arrive while the broker is still starting: remember them.
  let stopRequested = false;
  let wake = () => {};
  function onSignal(): void {
    stopRequested = true;
    wake();
  }
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);

  let broker: KafkaBroker | undefined;
  try {
    console.error(`Starting Kafka on 127.0.0.1:${options.port} (data in ${options.dataDir}) ...`);
    const started = performance.now();
    broker = await startKafkaBroker({ port: options.port, dataDir: options.dataDir });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `Kafka is ready at ${broker.bootstrap} (pid ${broker.pid}, started in ${seconds} s); Ctrl-C stops it.`,
    );
    console.log(`KAFKA_BROKERS=${broker.bootstrap}`);
    if (!stopRequested) {
      const exited = broker.exited();
      const stop = new Promise<void>((resolve) => wake = resolve);
      const status = await Promise.race([exited, stop.then(() => undefined)]);
      if (status && !stopRequested) {
        console.error(
          `error: the Kafka broker exited on its own (code ${status.code}); see ${broker.logFile}`,
        );
        return 1;
      }
    }
    console.error("Stopping Kafka ...");
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await broker?.close();
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
