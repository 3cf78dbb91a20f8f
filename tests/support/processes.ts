/**
 * What a test can check about processes and files it left behind (Linux),
 * e.g. that closing a broker ended its JVM and removed its folder.
 *
 * @module
 */

/** Whether a process with this pid exists. */
export async function processExists(pid: number): Promise<boolean> {
  return await pathExists(`/proc/${pid}`);
}

/** Pids of processes whose command line mentions `text`, e.g. a broker's folder. */
export async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(text)) pids.push(Number(entry.name));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

/** Whether a file or folder exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A `deno eval` child and the first line it printed. */
export interface EvalChild {
  child: Deno.ChildProcess;
  /** The first line of its stdout (empty when it exited first). */
  line: string;
  /** SIGKILLs it, as a crash would, and waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Runs `deno eval` with `args` before the script, and resolves once it has
 * printed its first line (a script reports what it started that way).
 */
export async function evalUntilFirstLine(
  args: string[],
  script: string,
  options: { cwd?: string; stderr?: "null" | "inherit" } = {},
): Promise<EvalChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", ...args, script],
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: options.stderr ?? "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    line += value;
  }
  await reader.cancel();
  return {
    child,
    line,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
    },
  };
}
