/**
 * The simulator on a thread of its own, so the benchmark measures the
 * client's work and not the stand-in server's (Twitch's servers are not on
 * our CPU either).
 *
 * Messages in: `{ start: Partial<SimulatorOptions> }`, `{ stats: true }`,
 * `{ close: true }`. Messages out: `{ port, clientId, clientSecret,
 * languages }` once started (stream count per language), `{ stats }`, and
 * `{ closed: true }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type Simulator, startSimulator } from "../src/sim/mod.ts";

let sim: Simulator | null = null;

self.onmessage = async (event: MessageEvent) => {
  const message = event.data;
  if (message.start) {
    sim = await startSimulator(message.start);
    const languages: Record<string, number> = {};
    for (const s of sim.liveStreams()) languages[s.language] = (languages[s.language] ?? 0) + 1;
    self.postMessage({
      port: sim.port,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      languages,
    });
  } else if (message.stats) {
    self.postMessage({ stats: sim?.stats });
  } else if (message.close) {
    await sim?.close();
    self.postMessage({ closed: true });
    self.close();
  }
};
