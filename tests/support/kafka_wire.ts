/**
 * Faults on the wire between kafkajs and a real broker, for answers a broker
 * gives only rarely: a socket factory whose sockets answer chosen requests
 * themselves, in Kafka's protocol, instead of passing them on. Everything
 * else goes to the broker and back unchanged, so kafkajs runs its real code
 * against a real broker, with one answer replaced.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import type { ISocketFactory } from "kafkajs";

/** Kafka's API key of JoinGroup. */
const JOIN_GROUP = 11;
/** Kafka's error code COORDINATOR_LOAD_IN_PROGRESS. */
const COORDINATOR_LOAD_IN_PROGRESS = 14;

/**
 * A JoinGroup response (versions 2 to 5, the ones kafkajs 2.2.4 speaks to a
 * current broker) with only an error code: throttle time, error code,
 * generation id -1, empty protocol, leader and member id, no members.
 */
export function joinGroupError(correlationId: number, version: number, code: number): Buffer {
  if (version < 2 || version > 5) throw new Error(`JoinGroup v${version} is not supported here`);
  const body = Buffer.alloc(4 + 4 + 2 + 4 + 2 + 2 + 2 + 4);
  let at = body.writeInt32BE(correlationId, 0);
  at = body.writeInt32BE(0, at); // throttle_time_ms
  at = body.writeInt16BE(code, at);
  at = body.writeInt32BE(-1, at); // generation_id
  at = body.writeInt16BE(0, at); // protocol_name ""
  at = body.writeInt16BE(0, at); // leader ""
  at = body.writeInt16BE(0, at); // member_id ""
  body.writeInt32BE(0, at); // members: none
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/**
 * Follows Kafka frames (a 4-byte size, then the frame) through a byte stream
 * that arrives in chunks, so that a frame of our own is only ever put
 * between two whole frames.
 */
class FrameTracker {
  #header: number[] = [];
  #left = 0;

  /** Takes in one chunk. */
  consume(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#left === 0) {
        this.#header.push(chunk[at++]);
        if (this.#header.length === 4) {
          this.#left = Buffer.from(this.#header).readInt32BE(0);
          this.#header = [];
        }
      } else {
        const take = Math.min(this.#left, chunk.length - at);
        at += take;
        this.#left -= take;
      }
    }
  }

  /** Whether the stream so far ends with a whole frame. */
  get atBoundary(): boolean {
    return this.#left === 0 && this.#header.length === 0;
  }
}

/** When a socket of {@link refuseJoins} answers JoinGroup itself. */
export interface RefuseJoinsOptions {
  /** Asked for each JoinGroup request: true answers it with COORDINATOR_LOAD_IN_PROGRESS. */
  refuse(): boolean;
}

/**
 * A kafkajs `socketFactory` whose connections answer JoinGroup requests
 * with COORDINATOR_LOAD_IN_PROGRESS while `refuse()` says so, as a group
 * coordinator does while it loads `__consumer_offsets`; the request never
 * reaches the broker, so the group holds no member of it.
 */
export function refuseJoins(options: RefuseJoinsOptions): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    if (ssl) throw new Error("refuseJoins speaks plain TCP only");
    const socket = net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    const inbound = new FrameTracker();
    const waiting: Buffer[] = [];
    let deliver: ((data: Buffer) => void) | null = null;
    const flush = () => {
      while (deliver !== null && inbound.atBoundary && waiting.length > 0) {
        deliver(waiting.shift()!);
      }
    };
    const wrapper = new Proxy(socket, {
      get(target, property) {
        if (property === "on") {
          return (event: string, listener: (...args: unknown[]) => void) => {
            if (event !== "data") return target.on(event, listener);
            deliver = listener;
            return target.on("data", (chunk: Buffer) => {
              inbound.consume(chunk);
              listener(chunk);
              flush();
            });
          };
        }
        if (property === "write") {
          return (data: Buffer, ...rest: unknown[]) => {
            // One request per write: size, API key, API version, correlation id, ...
            const apiKey = data.readInt16BE(4);
            if (apiKey === JOIN_GROUP && options.refuse()) {
              const version = data.readInt16BE(6);
              const correlationId = data.readInt32BE(8);
              waiting.push(joinGroupError(correlationId, version, COORDINATOR_LOAD_IN_PROGRESS));
              setTimeout(flush, 5);
              return true;
            }
            // deno-lint-ignore no-explicit-any
            return (target.write as any)(data, ...rest);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return wrapper;
  };
}
