/**
 * The ways the service runs: one scan printed (`--dry-run`), one scan
 * produced (`--once`), or scans on a schedule until a signal stops them.
 * The scheduled service is wired here from its pieces: the process's
 * lifecycle (`lifecycle.ts`), connecting and the election (`connect.ts`),
 * the scheduler (`scheduler.ts`), one scan's wiring (`scheduled_scan.ts`),
 * the watchlist's hand-over to the current term (`watch.ts`) and readiness
 * (`status.ts`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { KafkaConfig } from "kafkajs";
import type { Config } from "../config/config.ts";
import { splitsByLanguage } from "../scan/plan.ts";
import { LanguageAudit } from "../scan/audit.ts";
import { createKafka } from "../kafka/client.ts";
import { type KafkaSession, prepareTopics } from "../kafka/session.ts";
import { type Leadership, startLeadership } from "../kafka/leadership.ts";
import { describeKafkaError, fatalProducerError } from "../kafka/errors.ts";
import type { Metrics } from "../ops/metrics.ts";
import { schedulePeriod } from "../ops/readiness.ts";
import { serveOps } from "../ops/http.ts";
import { startEventSub, WatchLedger } from "../eventsub/mod.ts";
import { openKafka, runOneScan, type ServiceContext } from "./context.ts";
import { connect } from "./connect.ts";
import {
  createLifecycle,
  createShutdown,
  type Lifecycle,
  listenForSignals,
  REAL_CLOCK,
} from "./lifecycle.ts";
import { logCadence, logDelivery } from "./report.ts";
import { createScanner } from "./scheduled_scan.ts";
import { createScheduler, type ScanTarget } from "./scheduler.ts";
import {
  createProbe,
  createStatus,
  PROBE_INTERVAL_MS,
  serviceReadiness,
  type ServiceStatus,
  setBrokerReachable,
} from "./status.ts";
import { createHandOver } from "./watch.ts";
import { createPage, guardedFeed, type Watching } from "./page.ts";
import type { ServiceStatus as ServiceStatusPage } from "../ops/status.ts";

export type { ServiceContext } from "./context.ts";
export { dryRun, runOnce } from "./once.ts";
export { describeFailure, logScan } from "./report.ts";
export { SHUTDOWN_GRACE_MS } from "./lifecycle.ts";

const log = getLogger(["datagen", "service"]);

/** HA=off: the one producer session of the run; HA=on: the instance's leadership. */
type Connection =
  | { kind: "session"; session: KafkaSession }
  | { kind: "leadership"; leadership: Leadership };

/** What the terms of leadership call; bound to the scheduler once the scans are set up. */
interface TermHooks {
  begin(): void;
  end(): Promise<void>;
}

/** The service: scans on the schedule until SIGINT or SIGTERM. Resolves to the exit code. */
export async function runService(
  context: ServiceContext,
  kafkaConfig: KafkaConfig,
): Promise<number> {
  const { config, metrics } = context;
  const lifecycle = createLifecycle();
  const unlisten = listenForSignals(lifecycle);
  const status = createStatus();
  let connection: Connection | null = null;
  const leadership = () => connection?.kind === "leadership" ? connection.leadership : null;
  const watching: Watching = { eventsub: null };
  const readinessNow = () =>
    serviceReadiness(status, {
      schedule: config.schedule,
      now: Date.now(),
      role: leadership()?.role ?? null,
      outOfGroup: leadership()?.outOfGroup() ?? null,
    });
  const page = createPage(context, { readiness: readinessNow, watching });
  const server = config.http.port === 0 ? null : serveOps(
    { host: config.http.host, port: config.http.port, signal: lifecycle.signal },
    { readiness: readinessNow, health: lifecycle.health, metrics, status: page },
  );
  logDelivery(config);
  // HA=on: scans start and stop with the terms of leadership, bound once the scans are set up.
  const hooks: TermHooks = { begin: () => {}, end: () => Promise.resolve() };
  connection = await connect<Connection>({
    open: () => openConnection(config, kafkaConfig, hooks, { metrics, lifecycle, page }),
    // Stopped while joining: a stop must not wait for kafkajs's connection retries.
    release: (c) => {
      if (c.kind === "leadership") c.leadership.stop().catch(() => {});
    },
    fatalCode: fatalProducerError,
    describe: (error) => {
      const text = describeKafkaError(error, config);
      page.kafka(false, text);
      return text;
    },
    lifecycle,
    clock: REAL_CLOCK,
  });
  if (connection !== null) {
    await serve(context, kafkaConfig, connection, { lifecycle, status, hooks, page, watching });
  }
  await server?.shutdown();
  unlisten();
  log.info("Stopped");
  return lifecycle.exitCode();
}

/** One attempt to connect: HA=off opens the session, HA=on joins the election. */
async function openConnection(
  config: Config,
  kafkaConfig: KafkaConfig,
  hooks: TermHooks,
  parts: { metrics: Metrics; lifecycle: Lifecycle; page: ServiceStatusPage },
): Promise<Connection> {
  const { metrics, lifecycle, page } = parts;
  const ha = config.ha;
  if (ha === null) return { kind: "session", session: await openKafka(config, kafkaConfig) };
  const kafka = createKafka(kafkaConfig);
  await prepareTopics(config, kafka);
  const leadership = await startLeadership(kafka, { ...config, ha }, {
    begin: () => hooks.begin(),
    end: () => hooks.end(),
    role: (role) => {
      metrics.leader.set(role === "leader" ? 1 : 0);
      page.role(role);
    },
    // Waiting does not grant a permission: let the supervisor restart it once fixed.
    fatal: (line) => {
      lifecycle.fail(line);
      log.error("Stopping with exit code 1: {error}", { error: line });
      lifecycle.halt();
    },
  });
  return { kind: "leadership", leadership };
}

/** Scans on the schedule with a connection until the lifecycle stops, then shuts down. */
async function serve(
  context: ServiceContext,
  kafkaConfig: KafkaConfig,
  connection: Connection,
  parts: {
    lifecycle: Lifecycle;
    status: ServiceStatus;
    hooks: TermHooks;
    page: ServiceStatusPage;
    watching: Watching;
  },
): Promise<void> {
  const { config, metrics } = context;
  const { lifecycle, status, page, watching } = parts;
  // The page is fed as Kafka acknowledges writes: a fault of the page fails no write.
  const feed = guardedFeed(page);
  const reachable = (up: boolean, error?: string) => {
    setBrokerReachable(status, metrics, up);
    feed.kafka(up, error);
  };
  const leadership = connection.kind === "leadership" ? connection.leadership : null;
  // HA=off: the one session of the run; HA=on: the current term's, if this instance leads.
  const active = (): ScanTarget<KafkaSession> | null => {
    if (connection.kind === "session") return { session: connection.session };
    const term = connection.leadership.current();
    return term === null ? null : { session: term.session, signal: term.signal };
  };
  if (leadership === null) metrics.leader.set(1);
  reachable(true);
  const stepDown = () => void leadership?.stepDown();
  const ledger = new WatchLedger();
  // What events ended before this start stays ended: the topic's offline tombstones tell.
  const learnEnded = () => {
    const ended = active()?.session.ended;
    if (ended !== undefined) ledger.learn(ended, Date.now());
  };
  learnEnded();
  // Events are produced by the leader only, through its term's session (a standby drops them).
  const handOver = createHandOver({ active: () => active()?.session ?? null, stepDown });
  // Only the leader holds the conduit's shards: a new leader's sessions take them over.
  const startWatch = () =>
    watching.eventsub ??= context.eventsub === undefined ? null : startEventSub({
      ...context.eventsub,
      logins: config.eventsub.watchLogins,
      channels: config.eventsub.channels,
      source: context.source,
      send: (records) => handOver.send(records).then(() => feed.acknowledged(records, true)),
      live: handOver.live,
      ledger,
      metrics,
      selection: config.filters,
    });
  const stopWatch = () => {
    watching.eventsub?.stop();
    watching.eventsub = null;
  };
  if (leadership === null) startWatch();
  const splits = splitsByLanguage(config.filters, config.scan.mode);
  const scanner = createScanner({
    config,
    metrics,
    status,
    lifecycle,
    ledger,
    events: handOver,
    audit: new LanguageAudit(splits ? config.scan.auditIntervalMs : 0),
    afterScan: (state) => watching.eventsub?.afterScan(state),
    page,
    run: (options) => runOneScan(context, options),
    stepDown,
    now: Date.now,
  });
  const scheduler = createScheduler({
    active,
    scan: scanner.scan,
    stopping: () => lifecycle.signal.aborted,
    periodMs: () => schedulePeriod(config.schedule, Date.now()),
    projectedScanMs: scanner.projectedScanMs,
    notice: (notice) => logCadence(notice, config.schedule.source, scanner.lastPoints()),
  });
  const probe = createProbe(kafkaConfig, reachable);
  const timer = setInterval(probe, PROBE_INTERVAL_MS);
  Deno.cron("twitch-datagen scan", config.schedule.source, { signal: lifecycle.signal }, () => {
    scheduler.tick();
  });
  const shutdown = createShutdown();
  // A new leader scans as soon as its term began; a term ends once its scan has stopped, or,
  // in a stop, once the stop gave up waiting for it.
  parts.hooks.begin = () => {
    learnEnded();
    startWatch();
    scheduler.tick();
  };
  parts.hooks.end = () => {
    stopWatch();
    return shutdown.bounded(scheduler.idle());
  };
  if (active() !== null) startWatch();
  scheduler.tick();
  await stopped(lifecycle.signal);
  clearInterval(timer);
  stopWatch();
  await shutdown.run({
    running: scheduler.running,
    abortScan: scanner.stop,
    close: () =>
      connection.kind === "leadership"
        ? connection.leadership.stop()
        : connection.session.delivery.close(),
  });
}

/** Resolves once `signal` aborted. */
function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
