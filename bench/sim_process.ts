/**
 * The Helix simulator as a process of its own (`src/sim_cli.ts`, as
 * `deno task sim` runs it), so that a benchmark's figures, peak memory
 * included, are the client's alone: Twitch's servers are not on our CPU
 * either.
 *
 * @module
 */

/** A running simulator process. */
export interface SimProcess {
  port: number;
  clientId: string;
  clientSecret: string;
  /** Stops it and returns how many requests it answered 429. */
  stop(): Promise<number>;
}

/** Starts the simulator with `env` (SIM_* settings) on a free port. */
export async function startSimProcess(env: Record<string, string>): Promise<SimProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      new URL("../src/sim_cli.ts", import.meta.url).pathname,
    ],
    env: { ...env, SIM_PORT: "0" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!/client secret:\s+\S+\n/.test(output)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the simulator exited early:\n${output}`);
    output += value;
  }
  const port = Number(/localhost:(\d+)/.exec(output)![1]);
  const id = /client id:\s+(\S+)/.exec(output)![1];
  const secret = /client secret:\s+(\S+)/.exec(output)![1];
  return {
    port,
    clientId: id,
    clientSecret: secret,
    /** Stops it and returns how many requests it answered 429. */
    async stop(): Promise<number> {
      child.kill("SIGTERM");
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        output += value;
      }
      await child.status;
      return Number(/(\d+) rate-limited/.exec(output)?.[1] ?? NaN);
    },
  };
}
