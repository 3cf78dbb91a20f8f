/**
 * A small shell process that cleans up after a Deno process that died
 * without closing its broker (a crashed or killed test run): it kills the
 * broker's JVM (or the JVMs of a cluster's nodes) and removes their
 * temporary folder.
 *
 * It learns the JVMs' pids on stdin, one line `SLOT PID` per JVM (`SLOT`
 * alone: that JVM exited), so a restarted node replaces its own old pid. Its stdin reaches its end either when
 * told `exit` (a clean close: nothing to do) or when the Deno process dies
 * and the kernel closes the pipe (clean up). Ctrl-C reaches the whole
 * process group, so the watchdog ignores SIGINT to outlive its parent.
 *
 * @module
 */

const SCRIPT = `
trap '' INT HUP
slots=
while read -r slot pid; do
  case "$slot" in
    exit) exit 0 ;;
  esac
  eval "pid_$slot=\\$pid"
  case " $slots " in
    *" $slot "*) ;;
    *) slots="$slots $slot" ;;
  esac
done
pids=
for slot in $slots; do eval "pids=\\"\\$pids \\$pid_$slot\\""; done
for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
i=0
for pid in $pids; do
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
if [ -n "$1" ]; then rm -rf "$1"; fi
`;

/** Handle on a running watchdog. */
export interface Watchdog {
  /** The JVM to kill should this process die; replaces the previous one in the same slot (default 0). */
  watch(pid: number, slot?: number): Promise<void>;
  /** Nothing to kill any more in this slot (default 0): the JVM exited. */
  unwatch(slot?: number): Promise<void>;
  /** Ends the watchdog without it doing anything, and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a watchdog that, should this process die, kills the watched JVM and
 * removes `removeDir` (nothing is removed when it is undefined).
 */
export function startWatchdog(removeDir?: string): Watchdog {
  const child = new Deno.Command("sh", {
    args: ["-c", SCRIPT, "kafka-broker-watchdog", removeDir ?? ""],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // It must not keep this process alive: outliving it is its whole point.
  child.unref();
  const input = child.stdin.getWriter();
  let stopped = false;

  async function send(line: string): Promise<void> {
    if (!stopped) await input.write(new TextEncoder().encode(`${line}\n`));
  }

  return {
    watch(pid, slot = 0) {
      return send(`${checkSlot(slot)} ${pid}`);
    },
    unwatch(slot = 0) {
      return send(String(checkSlot(slot)));
    },
    async stop() {
      if (stopped) return;
      try {
        await send("exit");
        await input.close();
      } catch {
        // It exited already.
      }
      stopped = true;
      child.ref();
      await child.status;
    },
  };
}

/**
 * One slot of a shared watchdog, for one JVM of several: watching and
 * unwatching go to that slot, and stopping it leaves the shared watchdog running.
 */
export function watchdogSlot(watchdog: Watchdog, slot: number): Watchdog {
  checkSlot(slot);
  return {
    watch(pid) {
      return watchdog.watch(pid, slot);
    },
    unwatch() {
      return watchdog.unwatch(slot);
    },
    async stop() {},
  };
}

/** Slots become shell variable names, so only small whole numbers are allowed. */
function checkSlot(slot: number): number {
  if (!Number.isSafeInteger(slot) || slot < 0) {
    throw new RangeError(`Watchdog slot ${slot} is not allowed; use a whole number from 0`);
  }
  return slot;
}
