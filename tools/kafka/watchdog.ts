/**
 * A small shell process that cleans up after a Deno process that died
 * without closing its broker (a crashed or killed test run): it kills the
 * broker's JVM and removes its temporary folder.
 *
 * It learns the JVM's pid on stdin. Its stdin reaches its end either when
 * told `exit` (a clean close: nothing to do) or when the Deno process dies
 * and the kernel closes the pipe (clean up). Ctrl-C reaches the whole
 * process group, so the watchdog ignores SIGINT to outlive its parent.
 *
 * @module
 */

const SCRIPT = `
trap '' INT HUP
pid=
while IFS= read -r line; do
  case "$line" in
    exit) exit 0 ;;
    *) pid=$line ;;
  esac
done
if [ -n "$pid" ]; then
  kill -9 "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
if [ -n "$1" ]; then rm -rf "$1"; fi
`;

/** Handle on a running watchdog. */
export interface Watchdog {
  /** The JVM to kill should this process die; replaces the previous one. */
  watch(pid: number): Promise<void>;
  /** Nothing to kill any more (the JVM exited). */
  unwatch(): Promise<void>;
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
    watch(pid) {
      return send(String(pid));
    },
    unwatch() {
      return send("");
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
