/**
 * Twitch's own CLI (github.com/twitchdev/twitch-cli) as a test fixture: its
 * mock Helix (`mock-api`) and its mock EventSub WebSocket server
 * (`event websocket start-server`), each with a configuration directory of
 * its own so tests share no state. The executable's path comes from
 * `TWITCH_CLI`, which CI sets; elsewhere the tests are skipped without it,
 * and under `CI=true` they fail.
 */

import { freePort } from "../../dev/ports.ts";

/** The CLI's path, or undefined. */
export const TWITCH_CLI: string | undefined = Deno.env.get("TWITCH_CLI") || undefined;

/** Whether tests needing the CLI should be skipped here (never in CI). */
export const skipWithoutCli: boolean = TWITCH_CLI === undefined && Deno.env.get("CI") !== "true";

if (skipWithoutCli) {
  console.error(
    "TWITCH_CLI is not set: skipping the Twitch CLI conformance tests (set it to the path ../shared/tools/twitch-cli prints)",
  );
}

/** A configuration home for the CLI: its database and settings live there. */
export async function cliHome(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "twitch-cli-" });
}

function cli(): string {
  if (TWITCH_CLI === undefined) {
    throw new Error(
      "TWITCH_CLI is not set; CI must set it to the path ../shared/tools/twitch-cli prints",
    );
  }
  return TWITCH_CLI;
}

function envOf(home: string): Record<string, string> {
  return { HOME: home, XDG_CONFIG_HOME: `${home}/.config`, PATH: Deno.env.get("PATH") ?? "" };
}

/** Runs one CLI command to its end; throws with its output when it fails. */
export async function runCli(home: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(cli(), {
    args,
    env: envOf(home),
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`twitch ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** A CLI server running in the background. */
export interface CliServer extends AsyncDisposable {
  port: number;
  close(): Promise<void>;
}

async function serve(home: string, args: string[], port: number): Promise<CliServer> {
  const process = new Deno.Command(cli(), {
    args,
    env: envOf(home),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        process.kill("SIGKILL");
        await process.status;
        throw new Error(`twitch ${args.join(" ")} did not listen on ${port}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async function close() {
    try {
      process.kill("SIGTERM");
    } catch { /* exited */ }
    await process.status;
  }
  return { port, close, [Symbol.asyncDispose]: close };
}

/** The mock Helix, filled by `mock-api generate`; its client id and secret. */
export interface MockApi extends CliServer {
  clientId: string;
  clientSecret: string;
}

/** Generates the mock's data and serves it on a free port. */
export async function startMockApi(
  home: string,
  options: { count?: number } = {},
): Promise<MockApi> {
  const text = await runCli(home, ["mock-api", "generate", "-c", String(options.count ?? 10)]);
  const clientId = /Client-ID: (\S+)/.exec(text)?.[1];
  const clientSecret = /Secret: (\S+)/.exec(text)?.[1];
  if (!clientId || !clientSecret) {
    throw new Error(`no client in mock-api generate's output:\n${text}`);
  }
  const port = freePort();
  const server = await serve(home, ["mock-api", "start", "-p", String(port)], port);
  return { ...server, clientId, clientSecret };
}

/** Starts the mock EventSub WebSocket server (no `-S`: no subscription needed). */
export async function startEventSubServer(home: string): Promise<CliServer & { url: string }> {
  const port = freePort();
  const server = await serve(
    home,
    ["event", "websocket", "start-server", "-p", String(port)],
    port,
  );
  return { ...server, url: `ws://127.0.0.1:${port}/ws` };
}
