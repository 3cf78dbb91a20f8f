/**
 * A real Apache Kafka 4 broker for tests and local development: one JVM in
 * KRaft mode (broker and controller), on loopback ports, with its settings,
 * data and log in one folder.
 *
 * Tests must close every broker they start, also when an assertion fails:
 *
 * ```ts
 * Deno.test("the producer writes keyed records", async () => {
 *   await using broker = await startKafkaBroker();
 *   // ... use broker.bootstrap; the broker is closed when the test ends, pass or fail
 * });
 * ```
 *
 * (or `try { ... } finally { await broker.close(); }`). As a last resort a
 * small watchdog process kills the JVM and removes a temporary folder when
 * the Deno process that started them dies without closing them.
 *
 * @module
 */

import { resolve } from "node:path";
import { brokerProperties, type BrokerSettings, type KafkaUser } from "./broker_config.ts";
import { ensureKafkaJars } from "./jars.ts";
import {
  answersMetadata,
  existingClassArchive,
  formatStorage,
  publishClassArchive,
  spawnBroker,
} from "./jvm.ts";
import { makeBrokerTls } from "./tls.ts";
import { freePort, portIsFree } from "../ports.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";

export type { KafkaUser, Watchdog };

/** Options of {@linkcode startKafkaBroker}. */
export interface KafkaBrokerOptions {
  /** Port of the PLAINTEXT listener on 127.0.0.1 (default: a free port). */
  port?: number;
  /**
   * Folder for settings, data and log, kept after {@linkcode KafkaBroker.close}
   * so topics survive to the next start (default: a temporary folder, removed on close).
   */
  dataDir?: string;
  /** Maximum JVM heap in MiB (default 512). */
  heapMb?: number;
  /** `false` turns off creating topics on first use (default: on, as in Kafka). */
  autoCreateTopics?: boolean;
  /**
   * Adds a SASL_PLAINTEXT listener ({@linkcode KafkaBroker.saslBootstrap}) where
   * these users log in with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. SCRAM users
   * are stored when the data folder is first formatted.
   */
  sasl?: { users: KafkaUser[] };
  /**
   * Adds an SSL listener ({@linkcode KafkaBroker.sslBootstrap}) with a certificate
   * for 127.0.0.1 and localhost, signed by a fresh CA ({@linkcode KafkaBroker.caFile}).
   */
  ssl?: boolean;
  /** How long to wait for the broker to answer metadata requests (default 60 s). */
  readyTimeoutMs?: number;
  /** Gives up the start (stopping the JVM) once aborted, e.g. when another node of a cluster failed. */
  signal?: AbortSignal;
  /** Makes the broker one node of a cluster; `startKafkaCluster` in `kafka_cluster.ts` sets it. */
  member?: ClusterMember;
}

/** How a broker takes part in a cluster of brokers that are controllers too. */
export interface ClusterMember {
  /** This node's id, 1 to the number of nodes. */
  nodeId: number;
  /** Controller port of every node, node 1's first; all fixed before any node starts. */
  controllerPorts: readonly number[];
  /** The id all nodes' storage is formatted with. */
  clusterId: string;
  /** The cluster's watchdog, which also removes the cluster's folder; the broker starts none. */
  watchdog: Watchdog;
}

/** A running (or stopped) local Kafka broker. */
export interface KafkaBroker extends AsyncDisposable {
  /** `127.0.0.1:PORT` of the PLAINTEXT listener. */
  readonly bootstrap: string;
  /** `127.0.0.1:PORT` of the SASL_PLAINTEXT listener, when `sasl` was asked for. */
  readonly saslBootstrap: string | undefined;
  /** `127.0.0.1:PORT` of the SSL listener, when `ssl` was asked for. */
  readonly sslBootstrap: string | undefined;
  /** PEM file of the CA that signed the SSL listener's certificate, when `ssl` was asked for. */
  readonly caFile: string | undefined;
  /** Folder holding `server.properties`, `data/`, `logs/` and `tls/`. */
  readonly dir: string;
  /** The broker's log (warnings and errors). */
  readonly logFile: string;
  /** Process id of the running JVM, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** Starts the JVM again, on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
  /** Asks the JVM to shut down (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the JVM at once (SIGKILL), as a crash would, and waits for it to exit. */
  kill(): Promise<void>;
  /** Resolves when the running JVM exits, whoever stopped it. */
  exited(): Promise<Deno.CommandStatus>;
  /** Stops the JVM and removes the folder unless it was given as `dataDir`. */
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
const STOP_TIMEOUT_MS = 30_000;
const MAX_PORT_TRIES = 3;

/**
 * Starts a single-node Kafka broker and resolves once it answers metadata
 * requests. Resolves the broker's jars with Maven on first use.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const libs = await ensureKafkaJars();
  const temporary = options.dataDir === undefined;
  // The JVM runs inside the folder, so a relative path would point elsewhere for it.
  const dir = options.dataDir === undefined
    ? await Deno.makeTempDir({ prefix: "kafka-broker-" })
    : resolve(options.dataDir);
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  const broker = new LocalBroker(libs, dir, temporary, options);
  try {
    await broker.prepareAndStart();
  } catch (error) {
    await broker.close();
    throw error;
  }
  return broker;
}

class LocalBroker implements KafkaBroker {
  readonly dir: string;
  readonly logFile: string;
  #libs: string;
  #temporary: boolean;
  #options: KafkaBrokerOptions;
  #settings: BrokerSettings | undefined;
  #caFile: string | undefined;
  #child: Deno.ChildProcess | undefined;
  #archiveDump: string | undefined;
  #watchdog: Watchdog | undefined;
  #closed = false;

  constructor(libs: string, dir: string, temporary: boolean, options: KafkaBrokerOptions) {
    this.#libs = libs;
    this.dir = dir;
    this.#temporary = temporary;
    this.#options = options;
    this.logFile = `${dir}/logs/broker.log`;
  }

  get bootstrap(): string {
    return `${HOST}:${this.#requireSettings().port}`;
  }

  get saslBootstrap(): string | undefined {
    const port = this.#settings?.sasl?.port;
    return port === undefined ? undefined : `${HOST}:${port}`;
  }

  get sslBootstrap(): string | undefined {
    const port = this.#settings?.ssl?.port;
    return port === undefined ? undefined : `${HOST}:${port}`;
  }

  get caFile(): string | undefined {
    return this.#caFile;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** First start: watchdog, certificates, free ports, storage format, JVM. */
  async prepareAndStart(): Promise<void> {
    this.#watchdog = this.#options.member?.watchdog ??
      startWatchdog(this.#temporary ? this.dir : undefined);
    let tls: { keystoreFile: string; password: string } | undefined;
    if (this.#options.ssl) {
      const made = await makeBrokerTls(`${this.dir}/tls`);
      tls = made;
      this.#caFile = made.caFile;
    }
    for (let attempt = 1;; attempt++) {
      this.#settings = this.#chooseSettings(tls);
      await Deno.writeTextFile(this.#propertiesFile(), brokerProperties(this.#settings));
      await this.#formatOnce();
      try {
        await this.start();
        return;
      } catch (error) {
        // A free port can be taken by another process between choosing and binding it.
        const retry = error instanceof PortTakenError && this.#options.port === undefined &&
          attempt < MAX_PORT_TRIES;
        if (!retry) throw error;
      }
    }
  }

  async start(): Promise<void> {
    if (this.#closed) throw new Error("This Kafka broker was closed; start a new one");
    if (this.#child) {
      throw new Error(`The Kafka broker is already running (pid ${this.#child.pid})`);
    }
    const settings = this.#requireSettings();
    // Only what this run logs tells why it failed, not an earlier run's lines.
    const logStart = [await fileSize(this.logFile), await fileSize(this.#consoleFile())];
    const archive = await existingClassArchive(this.#libs);
    // The first broker on a machine records its classes for the ones after it.
    this.#archiveDump = archive ? undefined : `${this.dir}/classes.jsa`;
    const child = spawnBroker(this.dir, this.#libs, {
      propertiesFile: this.#propertiesFile(),
      heapMb: this.#options.heapMb ?? 512,
      classArchive: archive ?? { dumpTo: this.#archiveDump! },
    });
    // A broker a test forgot to close must not keep the test process alive.
    child.unref();
    this.#child = child;
    await this.#watchdog?.watch(child.pid);
    child.status.then(() => {
      if (this.#child === child) {
        this.#child = undefined;
        this.#watchdog?.unwatch().catch(() => {});
      }
    });
    try {
      await this.#waitUntilReady(child, settings, logStart);
    } catch (error) {
      await this.#end(child, "SIGKILL");
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.#child) await this.#end(this.#child, "SIGTERM");
  }

  async kill(): Promise<void> {
    if (this.#child) await this.#end(this.#child, "SIGKILL");
  }

  exited(): Promise<Deno.CommandStatus> {
    const child = this.#child;
    if (!child) return Promise.reject(new Error("The Kafka broker is not running"));
    child.ref();
    return child.status;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.stop();
    } finally {
      await this.#watchdog?.stop();
      if (this.#temporary) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #end(child: Deno.ChildProcess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    child.ref();
    try {
      child.kill(signal);
    } catch {
      // It exited already.
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited meanwhile.
      }
    }, STOP_TIMEOUT_MS);
    try {
      await child.status;
    } finally {
      clearTimeout(timer);
    }
    if (this.#child === child) {
      this.#child = undefined;
      await this.#watchdog?.unwatch();
    }
    // Only a JVM that shut down normally has written its class archive.
    if (this.#archiveDump && signal === "SIGTERM") {
      await publishClassArchive(this.#archiveDump, this.#libs);
    }
    this.#archiveDump = undefined;
  }

  async #waitUntilReady(
    child: Deno.ChildProcess,
    settings: BrokerSettings,
    logStart: number[],
  ): Promise<void> {
    const timeoutMs = this.#options.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let exit: Deno.CommandStatus | undefined;
    child.status.then((status) => exit = status);
    const signal = this.#options.signal;
    for (;;) {
      if (exit) throw await this.#startFailure(exit, logStart);
      signal?.throwIfAborted();
      if (await answersMetadata(`${HOST}:${settings.port}`)) return;
      if (exit) throw await this.#startFailure(exit, logStart);
      if (Date.now() > deadline) {
        throw new Error(
          `Kafka broker did not answer on ${HOST}:${settings.port} within ${timeoutMs} ms; see ${this.logFile}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #startFailure(status: Deno.CommandStatus, logStart: number[]): Promise<Error> {
    const log = await readFrom(this.logFile, logStart[0]) + "\n" +
      await readFrom(this.#consoleFile(), logStart[1]);
    if (/BindException|Address already in use/.test(log)) {
      return new PortTakenError(
        `A port of the Kafka broker is taken (${this.#portList()}); free it or choose another port`,
      );
    }
    const reason = log.split("\n").reverse().find((line) => /ERROR|Exception|Error:/.test(line));
    return new Error(
      `Kafka broker exited during start (code ${status.code})${
        reason ? `: ${reason.trim()}` : ""
      }; see ${this.logFile}`,
    );
  }

  #portList(): string {
    const s = this.#requireSettings();
    return [s.port, s.controllerPort, s.sasl?.port, s.ssl?.port].filter((p) => p).join(", ");
  }

  #chooseSettings(
    tls: { keystoreFile: string; password: string } | undefined,
  ): BrokerSettings {
    let port = this.#options.port;
    if (port === undefined) port = freePort();
    else if (!portIsFree(port)) {
      throw new PortTakenError(
        `Port ${port} on ${HOST} is in use; stop what holds it or choose another port`,
      );
    }
    const member = this.#options.member;
    return {
      port,
      controllerPort: member ? member.controllerPorts[member.nodeId - 1] : freePort(),
      logDir: `${this.dir}/data`,
      cluster: member && { nodeId: member.nodeId, controllerPorts: member.controllerPorts },
      autoCreateTopics: this.#options.autoCreateTopics,
      sasl: this.#options.sasl && { port: freePort(), users: this.#options.sasl.users },
      ssl: tls && { port: freePort(), ...tls },
    };
  }

  /** Formats the data folder unless it already holds a formatted broker. */
  async #formatOnce(): Promise<void> {
    try {
      await Deno.stat(`${this.dir}/data/meta.properties`);
    } catch {
      await formatStorage(this.dir, this.#libs, {
        propertiesFile: this.#propertiesFile(),
        scramUsers: this.#options.sasl?.users,
        clusterId: this.#options.member?.clusterId,
      });
    }
  }

  #consoleFile(): string {
    return `${this.dir}/logs/console.log`;
  }

  #propertiesFile(): string {
    return `${this.dir}/server.properties`;
  }

  #requireSettings(): BrokerSettings {
    if (!this.#settings) throw new Error("The Kafka broker has not been started");
    return this.#settings;
  }
}

/** The start of a broker failed because one of its ports was taken. */
export class PortTakenError extends Error {
  override name = "PortTakenError";
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await Deno.stat(file)).size;
  } catch {
    return 0;
  }
}

async function readFrom(file: string, offset: number): Promise<string> {
  try {
    const bytes = await Deno.readFile(file);
    return new TextDecoder().decode(bytes.subarray(offset));
  } catch {
    return "";
  }
}
