/**
 * One measured process of `deno task bench:memory`, run with the start
 * task's permission set and V8 flags. `service ARGS...` runs the service's
 * own `main` (as `deno task start ARGS...` does); `rebuild TOPIC` runs the
 * start-up rebuild alone. Either way the last line on stderr is
 * `memory-bench {...}`: the peak heap sampled every 20 ms. The process then
 * waits for stdin to close, so that the parent can read its peak resident
 * set (VmHWM) from /proc, which the permission set does not let it read itself.
 *
 * @module
 */

import { main } from "../main.ts";
import { createKafka } from "../src/kafka/client.ts";
import { readLiveState } from "../src/kafka/rebuild.ts";

let peakHeap = 0;
let peakHeapTotal = 0;
let peakExternal = 0;
function sample() {
  const usage = Deno.memoryUsage();
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  peakHeapTotal = Math.max(peakHeapTotal, usage.heapTotal);
  peakExternal = Math.max(peakExternal, usage.external);
}
const timer = setInterval(sample, 20);

const [mode, ...args] = Deno.args;
const result: Record<string, unknown> = { mode };
let code = 0;
const started = performance.now();
if (mode === "service") {
  code = await main(args);
} else if (mode === "rebuild") {
  const kafka = createKafka({
    clientId: "datagen-bench-rebuild",
    brokers: Deno.env.get("KAFKA_BROKERS")!.split(","),
    logLevel: 0,
  });
  const state = await readLiveState(kafka, args[0], {
    timeoutMs: Number(Deno.env.get("KAFKA_REBUILD_TIMEOUT_MS") ?? 600_000),
  });
  result.streams = state.size;
  result.liveSetBytes = state.bytes;
} else {
  throw new Error(`unknown mode ${mode}`);
}
result.seconds = Math.round((performance.now() - started) / 100) / 10;
clearInterval(timer);
sample();
result.peakHeapBytes = peakHeap;
result.peakHeapTotalBytes = peakHeapTotal;
result.peakExternalBytes = peakExternal;
result.code = code;
console.error(`memory-bench ${JSON.stringify(result)}`);
for await (const _ of Deno.stdin.readable) {
  // Wait for the parent to read /proc.
}
Deno.exit(code);
