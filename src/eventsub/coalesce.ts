/**
 * One send at a time for EventSub's records, with everything that arrived
 * meanwhile going out together in the next one. At a few thousand channels
 * events come several a second; the producer takes batches one at a time,
 * and a send per event would queue them behind each other, each paying a
 * round trip to the brokers. Each caller still learns whether its own
 * records were acknowledged.
 *
 * @module
 */

import type { StreamRecord } from "../scan/record.ts";

/** Wraps `send` so that records handed over while a send is under way go out in the next. */
export function coalesceSends(
  send: (records: StreamRecord[]) => Promise<void>,
): (records: StreamRecord[]) => Promise<void> {
  let waiting: { records: StreamRecord[]; resolve: () => void; reject: (e: unknown) => void }[] =
    [];
  let busy = false;

  async function drain() {
    busy = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        await send(batch.flatMap((w) => w.records));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    busy = false;
  }

  return (records) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ records, resolve, reject });
      if (!busy) void drain();
    });
}
