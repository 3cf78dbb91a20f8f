/**
 * Loopback ports for local brokers, services and tests: the one place that
 * asks the system for a free port.
 *
 * @module
 */

const HOST = "127.0.0.1";

/** A port on 127.0.0.1 that was free a moment ago (callers bind it soon after). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Whether `port` on 127.0.0.1 can be bound right now. */
export function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: HOST, port }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}
