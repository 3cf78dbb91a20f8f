/**
 * `deno task bench:fidelity`: the topic against the simulator's ground truth
 * while Helix behaves as Twitch's is reported to (`SIM_REALISTIC=1`: cache
 * nodes up to 5 minutes behind, new streams listed a minute after
 * stream.online, a looping last cursor, empty pages, invalid cursors, a slow
 * refill), with churn. The real Helix client, scan and EventSub watcher run
 * on a simulated clock (`tests/support/fidelity.ts`), one scan a minute;
 * after each scan, against `liveIds()`: stale keys (live in the topic, ended
 * in truth) and how long they stayed, missed keys (live in truth for over a
 * scan period, absent from the topic), false ends (tombstones of streams
 * live in truth), duplicates within a scan, pages per scan.
 *
 * Runs: EventSub off and on (the top 100 channels watched), each with each
 * false-end policy asked for: `none` (a look-up's "gone" ends the stream),
 * `confirm` (a second look-up must say so too), `young` (the service's: a
 * stream younger than the cache horizon is not ended on a look-up's word).
 * The first scan (an empty topic) is not judged.
 *
 * Flags: --streams N (20000), --scans N (16), --churn X (1), --seed N (1),
 * --eventsub off,on, --policies none,young (also: confirm),
 * --out PATH (bench/fidelity_results.json).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runFidelity, type ScanReport } from "../tests/support/fidelity.ts";
import { REALISTIC } from "../src/sim/options.ts";
import { HOLD_YOUNG_MS } from "../src/scan/settle.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    streams: { type: "string", default: "20000" },
    scans: { type: "string", default: "16" },
    churn: { type: "string", default: "1" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "bench/fidelity_results.json" },
    eventsub: { type: "string", default: "off,on" },
    policies: { type: "string", default: "none,young" },
  },
});
const streams = Number(values.streams);

/** One run's figures, over its judged scans. */
interface Row {
  eventsub: boolean;
  policy: Policy;
  scans: number;
  truth: number;
  pagesPerScan: number;
  maxPagesPerScan: number;
  stalePerScan: number;
  staleSecondsMean: number;
  staleSecondsP95: number;
  missedPerScan: number;
  trueEnds: number;
  falseEnds: number;
  falseEndsPer1000: number;
  duplicates: number;
  failedScans: number;
  seconds: number;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * How a look-up's "gone" is taken: at its word (none), confirmed by a second look-up (confirm),
 * or, for a stream younger than the cache horizon, not at all until it is older (young).
 */
type Policy = "none" | "confirm" | "young";

/** The scan options of each policy. */
const POLICIES: Record<Policy, Record<string, number>> = {
  none: {},
  // The simulator picks a cache node per request, so the second look-up needs no wait here.
  confirm: { confirmEndsMs: 0 },
  young: { holdYoungMs: HOLD_YOUNG_MS },
};

async function run(eventsub: boolean, policy: Policy): Promise<Row> {
  const started = performance.now();
  const { reports, staleFor } = await runFidelity({
    sim: { streams, churn: Number(values.churn), seed: Number(values.seed), ...REALISTIC },
    watch: eventsub ? 100 : 0,
    scans: Number(values.scans),
    stepMs: 5_000,
    shareMockPort: false,
    scan: POLICIES[policy],
    onScan: (r) =>
      console.error(
        `  scan ${r.scan}: ${r.summary.result}, ${r.summary.pages} pages, ${r.truth} live, stale ${r.stale}, missed ${r.missed}, ends ${r.trueEnds} true / ${r.falseEnds} false, duplicates ${r.duplicates}`,
      ),
  });
  const judged: ScanReport[] = reports.slice(1);
  const sum = (f: (r: ScanReport) => number) => judged.reduce((n, r) => n + f(r), 0);
  const trueEnds = sum((r) => r.trueEnds);
  const falseEnds = sum((r) => r.falseEnds);
  return {
    eventsub,
    policy,
    scans: judged.length,
    truth: Math.round(mean(judged.map((r) => r.truth))),
    pagesPerScan: Math.round(mean(judged.map((r) => r.summary.pages)) * 10) / 10,
    maxPagesPerScan: Math.max(...judged.map((r) => r.summary.pages)),
    stalePerScan: Math.round(mean(judged.map((r) => r.stale)) * 10) / 10,
    staleSecondsMean: Math.round(mean(staleFor) / 1000),
    staleSecondsP95: Math.round(percentile(staleFor, 95) / 1000),
    missedPerScan: Math.round(mean(judged.map((r) => r.missed)) * 10) / 10,
    trueEnds,
    falseEnds,
    falseEndsPer1000: trueEnds === 0 ? 0 : Math.round((falseEnds * 1000) / trueEnds),
    duplicates: sum((r) => r.duplicates),
    failedScans: judged.filter((r) => r.summary.result !== "ok").length,
    seconds: Math.round((performance.now() - started) / 1000),
  };
}

const rows: Row[] = [];
for (const eventsub of values.eventsub!.split(",").map((v) => v === "on")) {
  for (const policy of values.policies!.split(",") as Policy[]) {
    if (!(policy in POLICIES)) throw new Error(`--policies: unknown policy ${policy}`);
    console.error(`EventSub ${eventsub ? "on" : "off"}, false-end policy ${policy}:`);
    rows.push(await run(eventsub, policy));
  }
}

console.log(
  "| EventSub | false-end policy | pages/scan (max) | stale keys/scan | stale for, mean (p95) | missed/scan | false ends per 1,000 true ends | duplicates |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${
      r.eventsub ? "on" : "off"
    } | ${r.policy} | ${r.pagesPerScan} (${r.maxPagesPerScan}) | ${r.stalePerScan} | ${r.staleSecondsMean} s (${r.staleSecondsP95} s) | ${r.missedPerScan} | ${r.falseEndsPer1000} (${r.falseEnds} of ${r.trueEnds}) | ${r.duplicates} |`,
  );
}
await Deno.writeTextFile(
  values.out!,
  JSON.stringify(
    {
      streams,
      churn: Number(values.churn),
      seed: Number(values.seed),
      preset: REALISTIC,
      rows,
    },
    null,
    2,
  ) + "\n",
);
