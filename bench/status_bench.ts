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

/**
 * `deno task bench:status`: the status model alone with a live set of
 * `--streams N` (100000) simulated streams: its heap, the time it takes to
 * take one scan's records, and `/status.json`'s latency.
 */
async function main() {
  const { parseArgs } = await import("node:util");
  const { generateStream } = await import("../src/sim/data.ts");
  const { values } = parseArgs({
    args: Deno.args,
    options: { streams: { type: "string", default: "100000" } },
  });
  const streams = Number(values.streams);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc (deno task bench:status)");
  const now = Date.now();
  // The keys are the live state's strings in the service: made before the baseline.
  const keys = Array.from({ length: streams }, (_, i) => generateStream(7, i, { now }).id);
  const model = timedStatus();
  const send = model.wrap(() => Promise.resolve());
  gc();
  const before = Deno.memoryUsage().heapUsed;
  for (let start = 0; start < streams; start += 1000) {
    const batch: StreamRecord[] = [];
    for (let i = start; i < Math.min(streams, start + 1000); i++) {
      batch.push({
        key: keys[i],
        value: JSON.stringify(generateStream(7, i, { now })),
        timestamp: now,
        headers: {},
      });
    }
    await send(batch);
  }
  gc();
  gc();
  const heapMb = round((Deno.memoryUsage().heapUsed - before) / 1024 / 1024);
  const report = {
    date: new Date().toISOString(),
    streams,
    modelHeapMb: heapMb,
    modelMsPerScan: Math.round(model.spentMs()),
    statusJson: await statusLatency(model.status),
  };
  console.log(JSON.stringify(report, null, 2));
}

if (import.meta.main) await main();
