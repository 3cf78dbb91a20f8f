/**
 * Runs the service as users do: a separate `deno run -P main.ts` process,
 * under the very permission set of `deno task start` and the compiled
 * binary, with a clean environment of the test's choosing.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { startFlags } from "../../dev/start_flags.ts";

/** The repository root (where deno.json is). */
export const ROOT = fromFileUrl(new URL("../../", import.meta.url));

/** The runtime flags of `deno task start`: tests run the service with exactly these. */
export const START_FLAGS: string[] = await startFlags(`${ROOT}deno.json`);

/** A schedule that never fires during a test: only the scan at start-up runs. */
export const NO_SCHEDULED_SCANS = "0 0 1 1 *";

/** One log line, parsed from JSON; a line that is not JSON is kept as `{ text }`. */
export function parseLogLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line);
  } catch {
    return { text: line };
  }
}

/** The log lines of a run's stderr. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").filter((line) => line !== "").map(parseLogLine);
}

/** What a finished run printed and returned. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function command(args: string[], env: Record<string, string>, cwd?: string): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...START_FLAGS,
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}main.ts`,
      ...args,
    ],
    cwd: cwd ?? ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      HTTP_PORT: "0",
      // EventSub only where a test asks for it (EVENTSUB_CHANNELS), so that others count scans only.
      EVENTSUB_CHANNELS: "0",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the service to its end (e.g. with `--once`) and collects its output. */
export async function runService(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string } = {},
): Promise<RunResult> {
  const output = await command(args, env, options.cwd).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A service process running in the background. */
export interface RunningService extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** Log lines so far (stderr), parsed from JSON where possible. */
  logs(): Record<string, unknown>[];
  /** Resolves with the first log line matching `predicate`, or rejects after `timeoutMs`. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<RunResult>;
}

/** Starts the service in the background, collecting its stdout and its JSON log lines. */
export function startService(args: string[], env: Record<string, string>): RunningService {
  const process = command(args, { LOG_FORMAT: "json", ...env }).spawn();
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  let stdout = "";
  const waiters: (() => void)[] = [];
  const decoder = new TextDecoder();
  const readErr = (async () => {
    let rest = "";
    for await (const chunk of process.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      stderr += text;
      rest += text;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) lines.push(parseLogLine(line));
      waiters.splice(0).forEach((w) => w());
    }
  })();
  const readOut = (async () => {
    for await (const chunk of process.stdout) stdout += decoder.decode(chunk, { stream: true });
  })();
  let finished: Promise<RunResult> | null = null;
  const finish = () =>
    finished ??= (async () => {
      const status = await process.status;
      await Promise.all([readErr, readOut]);
      return { code: status.code, stdout, stderr };
    })();

  return {
    process,
    logs: () => lines,
    async waitForLog(predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = lines.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(`no matching log line within ${timeoutMs} ms; log so far:\n${stderr}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        process.kill(signal);
      } catch {
        // already exited
      }
      return await finish();
    },
    async [Symbol.asyncDispose]() {
      try {
        process.kill("SIGKILL");
      } catch {
        // already exited
      }
      await finish();
    },
  };
}

/** Far beyond a `--once` run that gives up: a run still going then hangs. */
const GIVE_UP_WITHIN_MS = 60_000;

/**
 * Runs `--once`, killing it (and failing the test) if it still runs after a
 * minute: for runs that must end on their own, such as a refused login.
 */
export async function runOnceWithin(
  env: Record<string, string>,
): Promise<RunResult & { ms: number }> {
  const started = performance.now();
  await using service = startService(["--once"], env);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), GIVE_UP_WITHIN_MS);
  });
  const outcome = await Promise.race([service.process.status, deadline]);
  clearTimeout(timer);
  const result = await service.stop("SIGKILL");
  if (outcome === "late") {
    throw new Error(`--once still ran after ${GIVE_UP_WITHIN_MS} ms:\n${result.stderr}`);
  }
  return { ...result, ms: Math.round(performance.now() - started) };
}

/** What a simulator needs to pass for Twitch: its Helix, credentials and EventSub, no cache hold. */
export function simulatorAsTwitch(
  sim: { port: number; clientId: string; clientSecret: string; eventSubUrl: string },
): Record<string, string> {
  return {
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    TWURPLE_MOCK_API_PORT: String(sim.port),
    TWITCH_CLIENT_ID: sim.clientId,
    TWITCH_CLIENT_SECRET: sim.clientSecret,
    EVENTSUB_WS_URL: sim.eventSubUrl,
  };
}
