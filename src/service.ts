/**
 * The ways the service runs: one scan printed (`--dry-run`), one scan
 * produced (`--once`), or scans on a schedule until a signal stops them.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { KafkaConfig } from "kafkajs";
import type { Config } from "./config/config.ts";
import type { StreamSource } from "./helix/client.ts";
import { createBatcher, type RecordSink } from "./scan/batcher.ts";
import { planScan, splitsByLanguage } from "./scan/plan.ts";
import { runScan, type ScanFailure, type ScanOutcome, type ScanSummary } from "./scan/scan.ts";
import { LanguageAudit } from "./scan/audit.ts";
import type { LiveState } from "./scan/endings.ts";
import { createKafka, DELIVERY, kafkaDelivery } from "./kafka/client.ts";
import { NEW_SESSIONS } from "./kafka/delivery.ts";
import { type KafkaSession, openSession, prepareTopics } from "./kafka/session.ts";
import { type Leadership, startLeadership } from "./kafka/leadership.ts";
import { roleReadiness, transactionalId } from "./kafka/leader.ts";
import { type Metrics, projectedScanMs, recordScan } from "./ops/metrics.ts";
import { readiness, schedulePeriod } from "./ops/readiness.ts";
import { type CadenceNotice, createCadence, onScanEnd, onTick } from "./ops/schedule.ts";
import { serveOps } from "./ops/http.ts";
import { backoffDelay, sleep } from "./util/retry.ts";
import { describeKafkaError, fatalProducerError } from "./kafka/errors.ts";
import { type EventSub, startEventSub, WatchLedger } from "./eventsub/mod.ts";
import type { EventSubApi } from "./eventsub/twitch.ts";

const log = getLogger(["datagen", "service"]);

/** What every mode needs. */
export interface ServiceContext {
  config: Config;
  source: StreamSource;
  metrics: Metrics;
  /** The watchlist's EventSub server and Helix edge (scheduled service only). */
  eventsub?: { url: string; api: EventSubApi };
}

/** Logs a scan's one summary line; `sink` names where records go ("Kafka", or "stdout"). */
export function logScan(summary: ScanSummary, sink = "Kafka"): void {
  const { scanId, result, failure, ...numbers } = summary;
  const error = failure === undefined ? undefined : describeFailure(failure, sink);
  const properties = {
    scanId,
    result,
    ...numbers,
    // A server that sends no Ratelimit headers leaves the budget unknown.
    rateLimitRemaining: numbers.rateLimitRemaining ?? "unknown",
    ...(failure ? { stage: failure.stage, error } : {}),
  };
  if (result === "ok") {
    log.info(
      "Scan ok: {distinct} streams on {pages} pages, {duplicates} duplicates dropped, {records} records, {ended} ended, {expired} expired, {deselected} deselected, {recovered} recovered in {durationMs} ms; {points} rate-limit points (at least {rateBoundMs} ms at the rate limit), {rateLimitRemaining} left",
      properties,
    );
  } else {
    log.error(`Scan ${result}: {error}`, properties);
  }
}

/** One line saying why a scan did not succeed. */
export function describeFailure(failure: ScanFailure, sink = "Kafka"): string {
  switch (failure.stage) {
    case "kafka":
      return sink === "Kafka"
        ? `producing to Kafka failed: ${failure.message}`
        : `writing to ${sink} failed: ${failure.message}`;
    case "lookup":
      return `look-up of missing streams failed: ${failure.message}`;
    case "aborted":
      // "shutting down", or why a term of leadership ended.
      return failure.message;
    default:
      return failure.message;
  }
}

/** Whether the one scan of `--once` or `--dry-run` is an audit. */
function auditOnce(config: Config): LanguageAudit | null {
  return config.audit && splitsByLanguage(config.filters, config.scan.mode)
    ? new LanguageAudit(0)
    : null;
}

/** Adds what an audit found to the split; each new language is logged once and counted. */
function learnLanguages(
  audit: LanguageAudit,
  outcome: ScanOutcome,
  metrics: Metrics,
): void {
  for (const language of audit.learn(outcome.languages)) {
    metrics.unlistedLanguages.inc();
    log.warn(
      "Found live streams in language {language}, outside the language split; it joins the split from now on",
      { language },
    );
  }
}

function runOneScan(
  context: ServiceContext,
  options: {
    sink: RecordSink;
    previous: LiveState | null;
    signal?: AbortSignal;
    /** Page unsplit (an audit). */
    audit?: boolean;
    extraLanguages?: readonly string[];
    /** What EventSub saw: newer events overrule older pages. */
    events?: WatchLedger;
  },
) {
  const { config } = context;
  if (options.audit) log.info("Audit scan: paging unsplit to find languages outside the split");
  return runScan({
    source: context.source,
    sink: options.sink,
    plan: planScan(config.filters, config.scan.mode, {
      audit: options.audit,
      extraLanguages: options.extraLanguages,
    }),
    previous: options.previous,
    scanId: crypto.randomUUID(),
    concurrency: config.scan.concurrency,
    maxStreams: config.filters.maxStreams,
    selection: config.filters,
    signal: options.signal,
    events: options.events,
    holdYoungMs: config.scan.cacheHorizonMs || undefined,
  });
}

/** `--dry-run`: one scan, records printed as JSON lines on stdout; no broker. */
export async function dryRun(context: ServiceContext): Promise<number> {
  const encoder = new TextEncoder();
  // A reader that has read enough (`| head -3`) closes the pipe: stop quietly, that is success.
  const closed = new AbortController();
  const sink = createBatcher(async (batch) => {
    if (closed.signal.aborted) return;
    const text = batch.map((r) =>
      JSON.stringify({
        key: r.key,
        value: r.value === null ? null : JSON.parse(r.value),
        timestamp: r.timestamp,
        headers: r.headers,
      }) + "\n"
    ).join("");
    const bytes = encoder.encode(text);
    try {
      let written = 0;
      while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      closed.abort();
    }
  });
  const audit = auditOnce(context.config);
  const outcome = await runOneScan(context, {
    sink,
    previous: null,
    signal: closed.signal,
    audit: audit !== null,
  });
  if (audit !== null) learnLanguages(audit, outcome, context.metrics);
  const { summary } = outcome;
  if (closed.signal.aborted) {
    log.debug("Stopped: stdout was closed");
    return 0;
  }
  logScan(summary, "stdout");
  return summary.result === "ok" ? 0 : 1;
}

async function openKafka(config: Config, kafkaConfig: KafkaConfig): Promise<KafkaSession> {
  const kafka = createKafka(kafkaConfig);
  await prepareTopics(config, kafka);
  return await openSession(config, kafka, kafkaDelivery(kafka, config.kafka.topic));
}

function logDelivery(config: Config) {
  log.info(
    "Producing to {topic} on {brokers}: idempotent={idempotent}, acks=all, maxInFlight={maxInFlight}, retries={retries}, compression={compression}",
    {
      topic: config.kafka.topic,
      brokers: config.kafka.brokers.join(","),
      idempotent: DELIVERY.idempotent,
      maxInFlight: DELIVERY.maxInFlightRequests,
      retries: DELIVERY.retries,
      compression: DELIVERY.compression,
    },
  );
}

/** `--once`: one scan produced to Kafka; exit 0 when every record is acknowledged. */
export async function runOnce(context: ServiceContext, kafkaConfig: KafkaConfig): Promise<number> {
  logDelivery(context.config);
  let session: KafkaSession;
  try {
    session = await openKafka(context.config, kafkaConfig);
  } catch (error) {
    log.error("Cannot use Kafka: {error}", { error: describeKafkaError(error, context.config) });
    return 1;
  }
  try {
    const sink = createBatcher(session.delivery.send);
    const audit = auditOnce(context.config);
    const outcome = await runOneScan(context, {
      sink,
      previous: session.state,
      audit: audit !== null,
    });
    if (audit !== null) learnLanguages(audit, outcome, context.metrics);
    const { summary } = outcome;
    recordScan(context.metrics, summary, Date.now());
    logScan(summary);
    return summary.result === "ok" ? 0 : 1;
  } finally {
    await session.delivery.close();
  }
}

/** How long a running scan may take to stop after SIGTERM before it is abandoned. */
export const SHUTDOWN_GRACE_MS = 20_000;
/** How often the broker is probed between scans (readiness). */
const PROBE_INTERVAL_MS = 10_000;

/** The service: scans on the schedule until SIGINT or SIGTERM. Resolves to the exit code. */
export async function runService(
  context: ServiceContext,
  kafkaConfig: KafkaConfig,
): Promise<number> {
  const { config, metrics } = context;
  const shutdown = new AbortController();
  const onSignal = () => {
    if (!shutdown.signal.aborted) {
      log.info("Shutting down: no new scans; a running scan may finish");
    }
    shutdown.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const status = {
    brokerReachable: false,
    lastSuccessAt: null as number | null,
    lastScanMs: null as number | null,
  };
  // HA=on: set once the instance joined the leader election.
  let leadership: Leadership | null = null;
  const ready = () => {
    const verdict = readiness({ ...status, schedule: config.schedule, now: Date.now() });
    return leadership === null
      ? verdict
      : roleReadiness(leadership.role, status.brokerReachable, verdict);
  };
  // Set when the producer cannot go on: /healthz fails and the process exits non-zero,
  // so that its supervisor (systemd, Compose, Kubernetes) restarts it.
  let fatal: string | null = null;
  const health = () => fatal === null ? { ok: true, reason: "ok" } : { ok: false, reason: fatal };
  const server = config.http.port === 0 ? null : serveOps(
    { host: config.http.host, port: config.http.port, signal: shutdown.signal },
    { readiness: ready, health, metrics },
  );
  logDelivery(config);

  // Connect with backoff until it works or the service is stopped.
  const stopped = new Promise<null>((resolve) =>
    shutdown.signal.addEventListener("abort", () => resolve(null), { once: true })
  );
  let session: KafkaSession | null = null;
  // HA=on: scans start and stop with the terms of leadership, bound once the scans are set up.
  const terms = {
    begin: () => {},
    end: (): Promise<void> => Promise.resolve(),
  };
  const ha = config.ha;
  const connected = () => ha === null ? session !== null : leadership !== null;
  for (let attempt = 1; !connected() && !shutdown.signal.aborted; attempt++) {
    try {
      // kafkajs retries a connection for about ten seconds; a stop must not wait for that.
      if (ha === null) {
        const opening = openKafka(config, kafkaConfig);
        opening.catch(() => {});
        session = await Promise.race([opening, stopped]);
      } else {
        const kafka = createKafka(kafkaConfig);
        const joining = prepareTopics(config, kafka).then(() =>
          startLeadership(kafka, { ...config, ha }, {
            begin: () => terms.begin(),
            end: () => terms.end(),
            role: (role) => metrics.leader.set(role === "leader" ? 1 : 0),
          })
        );
        joining.catch(() => {});
        leadership = await Promise.race([joining, stopped]);
        // Stopped while joining: a stop must not wait for kafkajs's connection retries.
        if (leadership === null) void joining.then((l) => l.stop(), () => {});
      }
    } catch (error) {
      const denied = fatalProducerError(error);
      if (denied?.endsWith("_AUTHORIZATION_FAILED")) {
        // Waiting does not grant a permission: let the supervisor restart it once an ACL is added.
        fatal = `the Kafka producer cannot start: ${denied}`;
        log.error("Stopping with exit code 1: {error}", {
          error: describeKafkaError(error, config),
        });
        break;
      }
      // Half the ceiling is fixed, half random: waits grow attempt by attempt (as logged),
      // and replicas that lost the broker together still do not retry in step.
      const half = Math.min(15_000, 500 * 2 ** (attempt - 1));
      const waitMs = 1000 + half +
        backoffDelay(attempt, { baseMs: 500, capMs: 15_000, random: Math.random });
      log.warn("Kafka not usable yet ({error}); retrying in {waitMs} ms", {
        error: describeKafkaError(error, config),
        waitMs,
      });
      await sleep(waitMs, shutdown.signal);
    }
  }

  let running: Promise<void> | null = null;
  if (connected()) {
    // HA=off: the one session of the run; HA=on: the current term's, if this instance leads.
    const active = () => leadership === null ? session : leadership.current()?.session ?? null;
    if (leadership === null) metrics.leader.set(1);
    status.brokerReachable = true;
    metrics.kafkaUp.set(1);
    const scanAbort = new AbortController();
    const languageAudit = new LanguageAudit(
      splitsByLanguage(config.filters, config.scan.mode) ? config.scan.auditIntervalMs : 0,
    );
    let scans = 0;
    const ledger = new WatchLedger();
    // Events are produced by the leader only, through its term's session (a standby drops them).
    const watch: EventSub | null = context.eventsub === undefined ? null : startEventSub({
      ...context.eventsub,
      logins: config.eventsub.watchLogins,
      source: context.source,
      send: (records) => {
        const current = active();
        if (current === null) {
          return Promise.reject(new Error("standing by: another instance leads"));
        }
        return current.delivery.send(records).catch((error) => {
          // Fenced while sending an event: step down now, not at the end of the next scan.
          if (current.delivery.lostLeadership) void leadership?.stepDown();
          throw error;
        });
      },
      live: () => active()?.state ?? new Map(),
      ledger,
      metrics,
      selection: config.filters,
    });
    const cadence = createCadence();
    let lastProjectedMs = 0;
    let lastPoints: number | null = null;
    const scan = async (current: KafkaSession, termSignal?: AbortSignal) => {
      const startedAt = Date.now();
      // The start-up scan is never an audit, so that it stays fast.
      const auditing = languageAudit.due(startedAt, { startup: scans++ === 0 });
      const outcome = await runOneScan(context, {
        // A record that waited in the batcher while a newer event ended its broadcast is
        // dropped as it is handed over (the event's tombstone went first).
        sink: createBatcher((batch) => current.delivery.send(ledger.unsuperseded(batch))),
        previous: current.state,
        signal: termSignal ? AbortSignal.any([scanAbort.signal, termSignal]) : scanAbort.signal,
        audit: auditing,
        extraLanguages: languageAudit.extraLanguages,
        events: ledger,
      });
      const { summary, state } = outcome;
      learnLanguages(languageAudit, outcome, metrics);
      if (auditing) languageAudit.done(startedAt, summary.result === "ok");
      if (state !== null) current.state = state;
      const finishedAt = Date.now();
      recordScan(metrics, summary, finishedAt);
      metrics.liveStreams.set(current.state.size);
      lastProjectedMs = projectedScanMs(summary);
      lastPoints = summary.points;
      if (summary.result === "ok") {
        status.lastSuccessAt = finishedAt;
        status.lastScanMs = summary.durationMs;
      }
      // A fenced producer reached the broker: that is no outage.
      if (summary.failure?.stage === "kafka" && !current.delivery.lostLeadership) {
        status.brokerReachable = false;
        metrics.kafkaUp.set(0);
      }
      // A scan stopped because its term of leadership ended says so, not "shutting down".
      logScan(
        termSignal?.aborted && !shutdown.signal.aborted && summary.failure?.stage === "aborted"
          ? {
            ...summary,
            failure: { stage: "aborted", message: "stepping down: another instance leads" },
          }
          : summary,
      );
      // Fenced: another instance leads now. Not a fault of the producer: step down, stand by.
      if (current.delivery.lostLeadership) void leadership?.stepDown();
      const broken = current.delivery.fatal;
      if (broken !== null && fatal === null) {
        fatal = `the Kafka producer cannot go on: ${broken.kind} (${broken.message})`;
        metrics.kafkaUp.set(0);
        log.error(
          "Stopping with exit code 1: the Kafka producer failed with {kind}, and up to {sessions} new producer sessions did not cure it ({error}); {hint}",
          {
            kind: broken.kind,
            error: broken.message,
            sessions: NEW_SESSIONS,
            hint: broken.kind === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
              ? `grant the service's user Write and Describe on transactional id ${
                transactionalId(config.kafka.topic)
              }, or set HA=off`
              : broken.kind.endsWith("AUTHORIZATION_FAILED")
              ? `grant the service's user Write and Describe on topic ${config.kafka.topic}`
              : "a restart starts afresh",
          },
        );
        shutdown.abort();
      }
    };
    const launch = () => {
      const current = active();
      if (current === null) {
        // A standby, or a leader still rebuilding: no scan, and none remembered.
        cadence.running = false;
        cadence.pending = false;
        return;
      }
      running = scan(current, leadership?.current()?.signal).catch((error) =>
        log.error("Scan crashed: {error}", { error })
      ).finally(
        () => {
          running = null;
          const end = onScanEnd(cadence, {
            periodMs: schedulePeriod(config.schedule, Date.now()),
            projectedScanMs: lastProjectedMs,
            stopping: shutdown.signal.aborted,
          });
          if (end.notice !== null) logCadence(end.notice, config.schedule.source, lastPoints);
          if (end.startNext) launch();
        },
      );
    };
    const tick = () => {
      if (shutdown.signal.aborted) return;
      if (active() === null) return; // A standby, or a leader still rebuilding.
      const action = onTick(cadence);
      if (action === "start") launch();
      else {
        log.debug("A scheduled scan is due while one runs: it starts when that one ends");
      }
    };
    const probe = createProbe(kafkaConfig, (up) => {
      status.brokerReachable = up;
      metrics.kafkaUp.set(up ? 1 : 0);
    });
    const timer = setInterval(probe, PROBE_INTERVAL_MS);
    Deno.cron("twitch-datagen scan", config.schedule.source, { signal: shutdown.signal }, tick);
    // A new leader scans as soon as its term began; a term ends once its scan has stopped.
    terms.begin = tick;
    terms.end = async () => {
      await (running as Promise<void> | null);
    };
    tick();
    await new Promise((resolve) =>
      shutdown.signal.addEventListener("abort", resolve, { once: true })
    );
    clearInterval(timer);
    watch?.stop();
    const stillRunning = running as Promise<void> | null;
    if (stillRunning !== null) {
      // Let the scan finish; past the grace period stop fetching, flush what was fetched.
      const grace = setTimeout(() => scanAbort.abort(), SHUTDOWN_GRACE_MS);
      // A broker that is down can hold the final flush; do not wait for it forever.
      await Promise.race([stillRunning, sleep(SHUTDOWN_GRACE_MS + 10_000)]);
      clearTimeout(grace);
    }
    if (leadership !== null) await leadership.stop();
    else await session?.delivery.close();
  }
  await server?.shutdown();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  log.info("Stopped");
  return fatal === null ? 0 : 1;
}

/** Logs that scans stopped (or started again) fitting the schedule. */
function logCadence(notice: CadenceNotice, schedule: string, points: number | null): void {
  if (notice.kind === "fits") {
    log.info("Scans fit the schedule {schedule} again", { schedule });
    return;
  }
  log.warn(
    "Scans no longer fit the schedule {schedule}: a full scan takes about {cadenceSeconds} s ({points} rate-limit points), so scans run back to back, one every {cadenceSeconds} s",
    { schedule, cadenceSeconds: Math.round(notice.cadenceMs / 1000), points },
  );
}

/** A broker probe for readiness that fails fast (no retries) and never overlaps itself. */
function createProbe(kafkaConfig: KafkaConfig, report: (up: boolean) => void): () => void {
  const kafka = createKafka({
    ...kafkaConfig,
    clientId: `${kafkaConfig.clientId ?? "twitch-datagen"}-probe`,
    retry: { retries: 0 },
    connectionTimeout: 3000,
    requestTimeout: 5000,
  });
  let busy = false;
  return () => {
    if (busy) return;
    busy = true;
    const admin = kafka.admin();
    admin.connect()
      .then(() => admin.describeCluster())
      .then(() => report(true), () => report(false))
      .finally(() => {
        busy = false;
        admin.disconnect().catch(() => {});
      });
  };
}
