import { LiveSet } from "../scan/live_set.ts";
import assert from "node:assert/strict";
import { createScanner, type ScannerOptions } from "./scheduled_scan.ts";
import { createLifecycle } from "./lifecycle.ts";
import { createStatus } from "./status.ts";
import { fakeSession, testConfig } from "./_test_utils.ts";
import type { OneScanOptions } from "./context.ts";
import { createMetrics } from "../ops/metrics.ts";
import { LanguageAudit } from "../scan/audit.ts";
import type { ScanOutcome, ScanSummary } from "../scan/scan.ts";
import type { LiveState } from "../scan/endings.ts";
import { liveStream, streamRecord } from "../scan/record.ts";
import { fakeStream } from "../scan/_test_utils.ts";
import { WatchLedger } from "../eventsub/mod.ts";

const NOW = 1_700_000_000_000;

/** A scan's summary: ok, with every count 0, unless overridden. */
function summary(fields: Partial<ScanSummary> = {}): ScanSummary {
  return {
    scanId: "s",
    result: "ok",
    pages: 1,
    streams: 0,
    distinct: 0,
    duplicates: 0,
    lateDuplicates: 0,
    records: 0,
    recovered: 0,
    ended: 0,
    expired: 0,
    deselected: 0,
    lookups: 0,
    superseded: 0,
    durationMs: 1000,
    drainMs: 0,
    rateLimitRemaining: 800,
    points: 2,
    rateBoundMs: 150,
    settled: true,
    ...fields,
  };
}

/** A scanner whose scans answer `outcomes` in turn; it records what each scan was given. */
function harness(
  outcomes: ((options: OneScanOptions) => ScanOutcome | Promise<ScanOutcome>)[],
  extra: Partial<ScannerOptions> = {},
) {
  const given: OneScanOptions[] = [];
  const lifecycle = createLifecycle();
  const status = createStatus();
  const metrics = createMetrics();
  const ledger = new WatchLedger();
  let stepDowns = 0;
  const options: ScannerOptions = {
    config: testConfig({ KAFKA_TOPIC: "streams" }),
    metrics,
    status,
    lifecycle,
    ledger,
    audit: new LanguageAudit(60_000),
    run: (o) => {
      given.push(o);
      return Promise.resolve(outcomes.shift()!(o));
    },
    stepDown: () => stepDowns++,
    now: () => NOW,
    ...extra,
  };
  return {
    scanner: createScanner(options),
    given,
    lifecycle,
    status,
    metrics,
    ledger,
    stepDowns: () => stepDowns,
  };
}

const one = fakeStream("1", { user_id: "101" });
const two = fakeStream("2", { user_id: "102" });

function outcome(state: LiveState | null, fields: Partial<ScanSummary> = {}): ScanOutcome {
  return {
    summary: summary(fields),
    state: state === null ? null : LiveSet.from(state),
    tombstoned: new Set(),
    languages: new Set(["en"]),
  };
}

Deno.test("a scan scans from the session's live set and leaves the state that follows in it", async () => {
  const { scanner, given, status, metrics } = harness([
    () => outcome(new Map([[two.id, liveStream(two)]])),
  ]);
  const session = fakeSession(new Map([[one.id, liveStream(one)]]));
  const previous = session.state;
  await scanner.scan({ session });
  assert.equal(given[0].previous, previous);
  assert.deepEqual([...session.state.keys()], ["2"]);
  assert.equal(status.lastSuccessAt, NOW);
  assert.equal(status.lastScanMs, 1000);
  assert.equal((await metrics.liveStreams.get()).values[0].value, 1);
  assert.equal(scanner.lastPoints(), 2);
});

Deno.test("a scan without a state keeps the session's live set as it was", async () => {
  const { scanner, status } = harness([
    () =>
      outcome(null, {
        result: "failed",
        failure: { stage: "helix", message: "Helix answered 503" },
      }),
  ]);
  const session = fakeSession(new Map([[one.id, liveStream(one)]]));
  const previous = session.state;
  await scanner.scan({ session });
  assert.equal(session.state, previous);
  assert.equal(status.lastSuccessAt, null);
});

Deno.test("Kafka's failure marks the broker unreachable; a fenced producer's does not", async () => {
  const kafka = { result: "failed", failure: { stage: "kafka", message: "timeout" } } as const;
  const { scanner, status, stepDowns } = harness([
    () => outcome(null, kafka),
    () => outcome(null, kafka),
  ]);
  status.brokerReachable = true;
  const fenced = fakeSession();
  fenced.delivery.lostLeadership = true;
  await scanner.scan({ session: fenced });
  assert.equal(status.brokerReachable, true);
  assert.equal(stepDowns(), 1);
  await scanner.scan({ session: fakeSession() });
  assert.equal(status.brokerReachable, false);
  assert.equal(stepDowns(), 1);
});

Deno.test("a producer broken for good stops the service with exit code 1, once", async () => {
  const { scanner, lifecycle } = harness([() => outcome(null), () => outcome(null)]);
  const session = fakeSession();
  session.delivery.fatal = { kind: "TOPIC_AUTHORIZATION_FAILED", message: "denied" };
  await scanner.scan({ session });
  assert.equal(lifecycle.signal.aborted, true);
  assert.equal(lifecycle.exitCode(), 1);
  const reason = "the Kafka producer cannot go on: TOPIC_AUTHORIZATION_FAILED (denied)";
  assert.equal(lifecycle.fatal, reason);
  session.delivery.fatal = { kind: "OTHER", message: "later" };
  await scanner.scan({ session });
  assert.equal(lifecycle.fatal, reason);
});

Deno.test("the scan's signal follows both the term and the stop past the grace period", async () => {
  const { scanner, given } = harness([() => outcome(null), () => outcome(null)]);
  const term = new AbortController();
  await scanner.scan({ session: fakeSession(), signal: term.signal });
  assert.equal(given[0].signal!.aborted, false);
  term.abort();
  assert.equal(given[0].signal!.aborted, true);
  await scanner.scan({ session: fakeSession() });
  assert.equal(given[1].signal!.aborted, false);
  scanner.stop();
  assert.equal(given[1].signal!.aborted, true);
});

Deno.test("the start-up scan is never an audit", async () => {
  const { scanner, given } = harness([() => outcome(null)]);
  await scanner.scan({ session: fakeSession() });
  assert.equal(given[0].audit, false);
});

Deno.test("the scan's records go through the session's delivery, those a newer event ended left out", async () => {
  const { scanner, ledger } = harness([async (o) => {
    await o.sink.write([
      streamRecord(one, { scanId: "s", fetchedAt: NOW - 1000 }),
      streamRecord(two, { scanId: "s", fetchedAt: NOW - 1000 }),
    ]);
    await o.sink.flush();
    return outcome(null);
  }]);
  ledger.note(one.user_id, { type: "offline", at: NOW - 500 });
  const session = fakeSession();
  await scanner.scan({ session });
  assert.deepEqual(session.delivery.acknowledged.map((r) => r.key), ["2"]);
});

Deno.test("a status page that fails on a record does not fail the scan's writes", async () => {
  let written: unknown = null;
  const { scanner } = harness([async (o) => {
    written = await o.sink.write([streamRecord(one, { scanId: "s", fetchedAt: NOW })])
      .then(() => o.sink.flush()).then(() => "written", (error) => error);
    return outcome(null);
  }], {
    page: {
      acknowledged: () => {
        throw new RangeError("Invalid code point 1114112");
      },
      scanned: () => {},
      kafka: () => {},
    },
  });
  const session = fakeSession();
  await scanner.scan({ session });
  assert.equal(written, "written");
  assert.deepEqual(session.delivery.acknowledged.map((r) => r.key), ["1"]);
});
