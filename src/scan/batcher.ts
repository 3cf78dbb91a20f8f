/**
 * Batching between the scan and Kafka: records are written as pages arrive
 * and sent in batches, one request in flight at a time (so the idempotent
 * producer keeps every partition in order), while later pages are fetched.
 * While one batch is on the wire the next one fills up, so batches grow by
 * themselves when Kafka is the slower side.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { StreamRecord } from "./record.ts";

/** Where a scan's records go. */
export interface RecordSink {
  /** Queues records; resolves once there is room for more (back-pressure). */
  write(records: readonly StreamRecord[]): Promise<void>;
  /** Resolves when every record written so far is acknowledged; throws the first send error. */
  flush(): Promise<void>;
}

/** Limits of a {@link createBatcher} sink. */
export interface BatcherOptions {
  /** Upper bound of one batch, in UTF-8 bytes of keys, values and headers (brokers refuse batches over ~1 MB per partition by default). */
  maxBatchBytes?: number;
  /** How many bytes may wait before `write` holds the scan back. */
  maxBufferedBytes?: number;
}

/**
 * What a record adds to a batch on the wire: key, value and headers in UTF-8
 * bytes (the broker's limit is in bytes; a title of emoji or CJK text takes up
 * to three times its JS length), plus 64 bytes for the record's own fields.
 */
export function recordSize(record: StreamRecord): number {
  // Buffer.byteLength counts without encoding, the fastest way measured (bench/batcher_bench.ts),
  // and counts a lone surrogate as the 3 bytes of U+FFFD, as the producer's Buffer.from writes it.
  let bytes = Buffer.byteLength(record.key) + 64;
  if (record.value !== null) bytes += Buffer.byteLength(record.value);
  for (const name in record.headers) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]);
  }
  return bytes;
}

/** Creates a sink that hands batches to `send`, one at a time. */
export function createBatcher(
  send: (batch: StreamRecord[]) => Promise<void>,
  options: BatcherOptions = {},
): RecordSink {
  const maxBatchBytes = options.maxBatchBytes ?? 900_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 8_000_000;
  let buffer: StreamRecord[] = [];
  let bufferedBytes = 0;
  let running: Promise<void> | null = null;
  let failure: unknown = null;

  async function drain() {
    while (buffer.length > 0 && failure === null) {
      let bytes = 0;
      let count = 0;
      while (count < buffer.length) {
        const next = recordSize(buffer[count]);
        if (count > 0 && bytes + next > maxBatchBytes) break;
        bytes += next;
        count++;
      }
      const batch = buffer.slice(0, count);
      buffer = buffer.slice(count);
      try {
        await send(batch);
      } catch (error) {
        failure = error;
      }
      bufferedBytes -= bytes;
    }
    running = null;
  }

  function kick() {
    if (running === null && buffer.length > 0 && failure === null) running = drain();
  }

  return {
    async write(records) {
      if (failure !== null) throw failure;
      for (const record of records) {
        buffer.push(record);
        bufferedBytes += recordSize(record);
      }
      kick();
      while (bufferedBytes > maxBufferedBytes && running !== null) await running;
      if (failure !== null) throw failure;
    },
    async flush() {
      kick();
      while (running !== null) await running;
      if (failure !== null) throw failure;
    },
  };
}
