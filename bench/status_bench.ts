/**
 * The status page's cost, for `deno task bench`: the time the scan spends
 * handing acknowledged batches to the status model, and how fast
 * `/status.json` answers over HTTP once the model holds the scan's live set.
 *
 * @module
 */

import type { StreamRecord } from "../src/scan/record.ts";
import { ServiceStatus } from "../src/ops/status.ts";
import { serveOps } from "../src/ops/http.ts";
import { createMetrics } from "../src/ops/metrics.ts";
import { freePort } from "../dev/ports.ts";

/** A status model whose time spent taking acknowledged records is counted. */
export interface TimedStatus {
  status: ServiceStatus;
  /** Wraps a send: once it resolves, the batch goes to the model, timed. */
  wrap(
    send: (records: StreamRecord[]) => Promise<void>,
  ): (records: StreamRecord[]) => Promise<void>;
  /** Milliseconds spent in the model so far. */
  spentMs(): number;
}

/** A status model for a benchmark; its clock moves a second a call, so no summary is reused. */
export function timedStatus(): TimedStatus {
  let clock = Date.now();
  const status = new ServiceStatus({
    readiness: () => ({ ready: true, reason: "ok" }),
    now: () => (clock += 1001),
  });
  let spent = 0;
  return {
    status,
    wrap: (send) => async (records) => {
      await send(records);
      const started = performance.now();
      status.acknowledged(records);
      spent += performance.now() - started;
    },
    spentMs: () => spent,
  };
}

/** `/status.json` over real HTTP, `requests` times one after another: latency and size. */
export async function statusLatency(status: ServiceStatus, requests = 30) {
  const stop = new AbortController();
  const port = freePort();
  const server = serveOps(
    { host: "127.0.0.1", port, signal: stop.signal },
    { readiness: () => ({ ready: true, reason: "ok" }), metrics: createMetrics(), status },
  );
  const times: number[] = [];
  let bytes = 0;
  let streams = 0;
  try {
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/status.json`);
      const body = await response.text();
      times.push(performance.now() - started);
      bytes = new TextEncoder().encode(body).length;
      streams = JSON.parse(body).live.streams;
    }
  } finally {
    stop.abort();
    await server.finished;
  }
  times.sort((a, b) => a - b);
  return {
    liveStreams: streams,
    requests,
    medianMs: round(times[Math.floor(times.length / 2)]),
    p95Ms: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]),
    maxMs: round(times[times.length - 1]),
    bytes,
  };
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}
