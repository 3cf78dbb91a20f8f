/**
 * Which node is the transaction coordinator of a transactional id: one
 * FindCoordinator request (key type 1, transaction) written by hand, so that
 * the tests ask the cluster with a client independent of kafkajs.
 *
 * @module
 */

const FIND_COORDINATOR = 10;
const COORDINATOR_NOT_AVAILABLE = 15;

function request(correlationId: number, key: string): Uint8Array {
  const encoder = new TextEncoder();
  const clientId = encoder.encode("twitch-datagen-tests");
  const keyBytes = encoder.encode(key);
  // Header v1 (api key, version 1, correlation id, client id), then key and key type.
  const size = 2 + 2 + 4 + 2 + clientId.length + 2 + keyBytes.length + 1;
  const buffer = new Uint8Array(4 + size);
  const view = new DataView(buffer.buffer);
  let at = 0;
  view.setInt32(at, size);
  view.setInt16(at += 4, FIND_COORDINATOR);
  view.setInt16(at += 2, 1);
  view.setInt32(at += 2, correlationId);
  view.setInt16(at += 4, clientId.length);
  buffer.set(clientId, at += 2);
  view.setInt16(at += clientId.length, keyBytes.length);
  buffer.set(keyBytes, at += 2);
  view.setInt8(at += keyBytes.length, 1);
  return buffer;
}

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let read = 0;
  while (read < n) {
    const got = await conn.read(out.subarray(read));
    if (got === null) throw new Error("the broker closed the connection");
    read += got;
  }
  return out;
}

/** Asks one broker once: the coordinator's node id, or the Kafka error code. */
async function ask(server: string, key: string): Promise<{ node: number; error: number }> {
  const [hostname, port] = server.split(":");
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(request(1, key));
    const size = new DataView((await readExactly(conn, 4)).buffer).getInt32(0);
    const body = new DataView((await readExactly(conn, size)).buffer);
    // correlation id, throttle time, error code, error message (nullable), node id.
    const error = body.getInt16(8);
    const messageLength = body.getInt16(10);
    const node = body.getInt32(12 + Math.max(0, messageLength));
    return { node, error };
  } finally {
    conn.close();
  }
}

/** The node id of the transaction coordinator of `transactionalId`, asking each broker in turn. */
export async function transactionCoordinatorOf(
  brokers: readonly string[],
  transactionalId: string,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    for (const server of brokers) {
      try {
        const { node, error } = await ask(server, transactionalId);
        if (error === 0) return node;
        last = `error code ${error}`;
        if (error !== COORDINATOR_NOT_AVAILABLE) break;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`no transaction coordinator for ${transactionalId} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
