import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { evalUntilFirstLine } from "./support/processes.ts";

const WATCHDOG = new URL("../dev/kafka/watchdog.ts", import.meta.url).href;

/** Whether a process with this pid exists (Linux). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // A killed child nobody has waited for yet is a zombie ("Z"): gone for our purpose.
    return stat.split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`still not true after 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs a Deno process that starts a watchdog for `dir`, hands it `sleep`
 * processes as `script` says, prints their pids and waits to be killed.
 */
async function dyingParent(dir: string, script: string): Promise<number[]> {
  const code = `
    import { startWatchdog } from "${WATCHDOG}";
    const watchdog = startWatchdog(${JSON.stringify(dir)});
    const sleeps = [0, 1, 2].map(() =>
      new Deno.Command("sleep", { args: ["300"], stdin: "null", stdout: "null", stderr: "null" }).spawn()
    );
    const pids = sleeps.map((s) => s.pid);
    ${script}
    console.log(JSON.stringify(pids));
    setInterval(() => {}, 1000);
  `;
  const parent = await evalUntilFirstLine(["--no-config"], code, {
    cwd: fileURLToPath(new URL("../dev/kafka/", import.meta.url)),
    stderr: "inherit",
  });
  const line = parent.line;
  const pids = JSON.parse(line) as number[];
  for (const pid of pids) assert.equal(await alive(pid), true);
  await parent.kill();
  return pids;
}

Deno.test("when its process dies, the watchdog kills the pid of every slot and removes the folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "watchdog-test-" });
  const pids = await dyingParent(
    dir,
    `for (const [i, pid] of pids.entries()) await watchdog.watch(pid, i + 1);`,
  );

  for (const pid of pids) await eventually(`pid ${pid} is killed`, async () => !(await alive(pid)));
  await eventually(`${dir} is removed`, async () => {
    try {
      await Deno.stat(dir);
      return false;
    } catch {
      return true;
    }
  });
});

Deno.test("a slot that was unwatched or watched again spares its earlier pid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "watchdog-test-" });
  try {
    const pids = await dyingParent(
      dir,
      `await watchdog.watch(pids[0], 1);
       await watchdog.unwatch(1);
       await watchdog.watch(pids[1], 2);
       await watchdog.watch(pids[2], 2);`,
    );

    await eventually(`pid ${pids[2]} is killed`, async () => !(await alive(pids[2])));
    await eventually(`${dir} is removed`, async () => {
      try {
        await Deno.stat(dir);
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(await alive(pids[0]), true);
    assert.equal(await alive(pids[1]), true);
    Deno.kill(pids[0], "SIGKILL");
    Deno.kill(pids[1], "SIGKILL");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a slot that is not a whole number is refused before it reaches the shell", async () => {
  const { startWatchdog } = await import(WATCHDOG);
  const watchdog = startWatchdog();
  try {
    await assert.rejects(
      async () => await watchdog.watch(1234, "1; rm -rf /" as unknown as number),
      {
        message: "Watchdog slot 1; rm -rf / is not allowed; use a whole number from 0",
      },
    );
  } finally {
    await watchdog.stop();
  }
});
