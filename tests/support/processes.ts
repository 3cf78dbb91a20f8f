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
