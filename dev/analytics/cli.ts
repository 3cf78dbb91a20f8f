/**
 * `deno task analytics`: the original design's four questions, answered live
 * by Apache Flink SQL from the topic (`KAFKA_BROKERS`, `KAFKA_TOPIC`).
 *
 * PyFlink runs `deploy/flink/twitch_streams.sql` in a local mini-cluster and
 * streams one query's changelog; this side folds it into the answers and
 * shows them, again whenever they change. `--once` reads the topic up to its
 * latest offsets and prints the answers once; `--json` prints JSON (one object
 * per change, or one in all with `--once`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ChangelogFold } from "./answers.ts";
import { ensureFlinkRuntime, SetupError } from "./install.ts";
import { renderAnswers } from "./render.ts";
import { answersQuery, splitStatements, targetScript } from "./sql.ts";

const SCRIPT = fileURLToPath(new URL("../../deploy/flink/twitch_streams.sql", import.meta.url));
const RUNNER = fileURLToPath(new URL("./flink_answers.py", import.meta.url));
/** Changelog rows arriving closer together than this are one change: show the result once. */
const SETTLE_MS = 250;

const USAGE = `Usage: deno task analytics [--once] [--json]

Answers four questions live from the topic with Apache Flink SQL: live streams, top games,
streams started in the last 15 minutes, top tags, and the top streamer of each top game.

  --once   read the topic up to its latest offsets, print the answers once, exit
  --json   print JSON instead of tables (one object per change without --once)

Reads KAFKA_BROKERS (default localhost:9092) and KAFKA_TOPIC (default twitch-streams).
The first run installs PyFlink into the user's cache and Flink's Kafka connector into
dev/analytics/target (needs Python 3.10 to 3.12, Java 11+ and Maven).`;

function fail(message: string): never {
  console.error(`error: ${message}`);
  Deno.exit(1);
}

async function main(): Promise<void> {
  let flags;
  try {
    flags = parseArgs({
      args: Deno.args,
      options: {
        once: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}; see deno task analytics --help`);
  }
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const brokers = Deno.env.get("KAFKA_BROKERS") || "localhost:9092";
  const topic = Deno.env.get("KAFKA_TOPIC") || "twitch-streams";

  let runtime;
  try {
    runtime = await ensureFlinkRuntime();
  } catch (error) {
    if (error instanceof SetupError) fail(error.message);
    throw error;
  }
  const script = targetScript(await Deno.readTextFile(SCRIPT), {
    brokers,
    topic,
    bounded: flags.once,
  });
  const request = {
    jars: runtime.jars,
    statements: splitStatements(script),
    query: answersQuery(),
  };

  if (!flags.once && !flags.json) console.error(`Starting Flink on ${topic} at ${brokers} ...`);
  const child = new Deno.Command(runtime.python, {
    args: [RUNNER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
  // stdin stays open: the runner ends its job when it closes (this process went away).
  const stop = () => {
    writer.close().catch(() => {});
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);

  let stderr = "";
  const readErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + chunk).slice(-20_000);
    }
  })();

  const fold = new ChangelogFold();
  const source = `${topic} at ${brokers}`;
  let shown = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = () => {
    const answers = fold.answers();
    const text = flags.json ? JSON.stringify(answers) : renderAnswers(answers, source);
    if (text === shown) return;
    shown = text;
    if (flags.json) console.log(text);
    else console.log(`\x1b[2J\x1b[H${text}`);
  };

  let ended = false;
  let error: string | undefined;
  let rest = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === "") continue;
      const message = JSON.parse(line);
      if (message[0] === "end") ended = true;
      else if (message[0] === "error") error = message[1];
      else if (message[0] !== "ready") fold.apply(message);
    }
    if (!flags.once) {
      clearTimeout(timer);
      timer = setTimeout(show, SETTLE_MS);
    }
  }
  clearTimeout(timer);
  const status = await child.status;
  await readErr;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  if (error !== undefined) fail(`Flink: ${error}`);
  if (flags.once) {
    if (!ended) {
      fail(`Flink stopped before answering (exit ${status.code}): ${lastLines(stderr)}`);
    }
    show();
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-5).join("\n");
}

if (import.meta.main) await main();
