/**
 * `TWURPLE_MOCK_API_PORT` is one variable for the whole process, and
 * `deno test --parallel` runs test modules side by side in one process. Tests
 * that point twurple at a simulator take turns through a file lock here, so
 * one module's port is never used by another's client.
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";

const VARIABLE = "TWURPLE_MOCK_API_PORT";

/**
 * Runs `fn` with `TWURPLE_MOCK_API_PORT` set to `port`, holding a lock that every caller in
 * any process of this machine shares; restores the previous value afterwards.
 */
export async function withMockApiPort<T>(port: number, fn: () => Promise<T>): Promise<T> {
  const lock = await Deno.open(join(tmpdir(), "twitch-datagen-twurple-mock-port.lock"), {
    create: true,
    write: true,
  });
  try {
    await lock.lock(true);
    const previous = Deno.env.get(VARIABLE);
    Deno.env.set(VARIABLE, String(port));
    try {
      return await fn();
    } finally {
      if (previous === undefined) Deno.env.delete(VARIABLE);
      else Deno.env.set(VARIABLE, previous);
    }
  } finally {
    // Closing releases the lock, also when the process dies.
    lock.close();
  }
}
