/**
 * The topic judged against the simulator's ground truth, scan after scan, on
 * a simulated clock: the real Helix client, scan and EventSub watcher
 * against a simulator over HTTP, with the topic kept in memory (Kafka's part
 * is shown by the tests with brokers). The clock moves in steps; every step
 * the watched channels that went live or offline in the world send their
 * stream.online or stream.offline (as the simulator's EventSub does), and
 * every scan period a scan runs. After each scan the topic is compared with
 * `liveIds()`: stale keys, missed keys, false ends, duplicates, pages.
 *
 * @module
 */

import { createHelixSource } from "../../src/helix/client.ts";
import type { HelixStream } from "../../src/helix/stream.ts";
import { planScan } from "../../src/scan/plan.ts";
import { runScan, type ScanOptions, type ScanSummary } from "../../src/scan/scan.ts";
import type { LiveState } from "../../src/scan/endings.ts";
import type { StreamRecord } from "../../src/scan/record.ts";
import { WatchLedger } from "../../src/eventsub/ledger.ts";
import { Watcher } from "../../src/eventsub/watcher.ts";
import type { StreamEvent } from "../../src/eventsub/messages.ts";
import { type SimulatorOptions, startSimulator } from "../../src/sim/mod.ts";
import { withMockApiPort } from "../../src/sim/_mock_port.ts";

/** What to run. */
export interface FidelityOptions {
  /** The simulator (its clock is the run's). */
  sim: Partial<SimulatorOptions>;
  /** Channels followed over EventSub: the top N at the start (0: EventSub off). */
  watch: number;
  /** Scans to run, one per `scanEveryMs` of simulated time. */
  scans: number;
  /** Default 60 s, as `SCHEDULE=* * * * *`. */
  scanEveryMs?: number;
  /** How far the clock moves per step (default 1 s). */
  stepMs?: number;
  /** Scan options on top of the service's (e.g. `confirmEndsMs`). */
  scan?: Partial<ScanOptions>;
  /**
   * Take turns with other tests for `TWURPLE_MOCK_API_PORT` (default true). A process of its own
   * (the benchmark) sets the variable without holding everyone else's tests up for minutes.
   */
  shareMockPort?: boolean;
  /** Called after each scan with its report. */
  onScan?: (report: ScanReport) => void;
}

/** One scan against the truth at its end. */
export interface ScanReport {
  scan: number;
  summary: ScanSummary;
  /** Streams live in truth at the scan's end. */
  truth: number;
  /** Keys live in the topic that ended in truth. */
  stale: number;
  /** Keys live in truth for more than a scan period and absent from the topic. */
  missed: number;
  /** Tombstones this scan wrote for streams live in truth (a flap: they come back). */
  falseEnds: number;
  /** Tombstones this scan wrote for streams that did end. */
  trueEnds: number;
  /** Keys this scan wrote more than once. */
  duplicates: number;
}

/** What a whole run showed. */
export interface FidelityResult {
  reports: ScanReport[];
  /** Every record, in the order it reached the topic, with the simulated time it did. */
  topic: { record: StreamRecord; at: number }[];
  /** The events sent to the watcher. */
  events: StreamEvent[];
  /** Per stale key: how long it stayed live in the topic after it ended in truth (ms), at its last scan. */
  staleFor: number[];
}

/** Runs scans (and EventSub, when watching) on a simulated clock, and judges each against the truth. */
export async function runFidelity(options: FidelityOptions): Promise<FidelityResult> {
  const scanEveryMs = options.scanEveryMs ?? 60_000;
  const stepMs = options.stepMs ?? 1_000;
  let now = Date.now();
  await using sim = await startSimulator({ ...options.sim, clock: () => now });
  const withPort = options.shareMockPort ?? true ? withMockApiPort : ownMockApiPort;
  return await withPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 10_000,
    });
    const ledger = new WatchLedger();
    let state: LiveState = new Map();
    const topic: FidelityResult["topic"] = [];
    const live = new Map<string, boolean>();
    const apply = (records: readonly StreamRecord[]) => {
      for (const record of records) {
        topic.push({ record, at: now });
        live.set(record.key, record.value !== null);
      }
    };
    const tasks: { at: number; task: () => Promise<void> }[] = [];
    const watcher = new Watcher({
      source,
      send: (records) => Promise.resolve(apply(records)),
      live: () => state,
      ledger,
      now: () => now,
      schedule: (ms, task) => tasks.push({ at: now + ms, task }),
    });
    const handling: Promise<unknown>[] = [];
    const events: StreamEvent[] = [];

    const watched = new Map<string, string | null>();
    const streams = sim.liveStreams();
    for (const s of streams.slice(0, options.watch)) watched.set(s.user_id, s.id);
    const firstLive = new Map<string, number>();
    const ended = new Map<string, number>();
    let truth = new Set<string>();
    const sample = (streams: HelixStream[]) => {
      const next = new Set<string>();
      for (const s of streams) {
        next.add(s.id);
        if (!firstLive.has(s.id)) firstLive.set(s.id, now);
      }
      for (const id of truth) if (!next.has(id) && !ended.has(id)) ended.set(id, now);
      truth = next;
      return streams;
    };
    sample(streams);

    const step = async () => {
      now += stepMs;
      const streams = sample(sim.liveStreams());
      if (options.watch > 0) {
        const current = new Map<string, string>();
        for (const s of streams) if (watched.has(s.user_id)) current.set(s.user_id, s.id);
        for (const [userId, before] of watched) {
          const after = current.get(userId) ?? null;
          if (after === before) continue;
          watched.set(userId, after);
          const base = { userId, userLogin: userId, sentAt: now, receivedAt: now };
          if (before !== null) send({ ...base, type: "stream.offline" });
          if (after !== null) send({ ...base, type: "stream.online", streamId: after });
        }
      }
      tasks.sort((a, b) => a.at - b.at);
      while (tasks.length > 0 && tasks[0].at <= now) await tasks.shift()!.task();
      // Let the watcher write what those look-ups found.
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    const send = (event: StreamEvent) => {
      events.push(event);
      handling.push(watcher.handle(event).catch(() => {}));
    };

    const reports: ScanReport[] = [];
    const staleSince = new Map<string, number>();
    const staleFor: number[] = [];
    const plan = planScan({ languages: [], gameIds: [], userLogins: [] }, "auto");
    for (let scan = 1; scan <= options.scans; scan++) {
      const scanId = crypto.randomUUID();
      const written = topic.length;
      const { summary, state: next } = await runScan({
        source,
        sink: {
          write: (records) => Promise.resolve(apply(ledger.unsuperseded(records))),
          flush: () => Promise.resolve(),
        },
        plan,
        previous: state,
        scanId,
        concurrency: 16,
        events: ledger,
        now: () => now,
        ...options.scan,
      });
      if (next !== null) state = next;
      sample(sim.liveStreams());
      const mine = topic.slice(written).map((t) => t.record).filter((r) =>
        r.headers["scan-id"] === scanId
      );
      const keys = mine.map((r) => r.key);
      const tombstones = mine.filter((r) => r.value === null);
      const topicLive = [...live].filter(([, v]) => v).map(([k]) => k);
      let stale = 0;
      for (const id of topicLive) {
        if (truth.has(id)) continue;
        stale++;
        staleSince.set(id, ended.get(id) ?? now);
      }
      for (const [id, since] of staleSince) {
        if (live.get(id) && !truth.has(id)) continue;
        staleFor.push(now - since);
        staleSince.delete(id);
      }
      const inTopic = new Set(topicLive);
      let missed = 0;
      for (const id of truth) {
        if (!inTopic.has(id) && now - firstLive.get(id)! > scanEveryMs) missed++;
      }
      const report: ScanReport = {
        scan,
        summary,
        truth: truth.size,
        stale,
        missed,
        falseEnds: tombstones.filter((r) => truth.has(r.key)).length,
        trueEnds: tombstones.filter((r) => !truth.has(r.key)).length,
        duplicates: keys.length - new Set(keys).size,
      };
      reports.push(report);
      options.onScan?.(report);
      if (scan < options.scans) {
        for (let t = 0; t < scanEveryMs; t += stepMs) await step();
      }
    }
    for (const [, since] of staleSince) staleFor.push(now - since);
    watcher.close();
    await Promise.all(handling);
    return { reports, topic, events, staleFor };
  });
}

/** Sets `TWURPLE_MOCK_API_PORT` for this process alone (no other module in it uses twurple). */
async function ownMockApiPort<T>(port: number, fn: () => Promise<T>): Promise<T> {
  Deno.env.set("TWURPLE_MOCK_API_PORT", String(port));
  try {
    return await fn();
  } finally {
    Deno.env.delete("TWURPLE_MOCK_API_PORT");
  }
}
