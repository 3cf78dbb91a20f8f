/**
 * Running the broker's JVM: the storage format step, the broker process
 * itself, and the checks around it (free ports, does it answer).
 *
 * @module
 */

import { Kafka, logLevel } from "kafkajs";
import { type KafkaUser, newClusterId, scramFormatArgs } from "./broker_config.ts";
import { KAFKA_TOOLS_DIR } from "./jars.ts";
import { jdkTool } from "./tls.ts";
import { patchKafkajsIdleLoop } from "../../src/kafka/kafkajs_patch.ts";

// The kafkajs clients here (readiness probes, metadata) would otherwise spin a 1 ms timer per idle
// connection and print TimeoutNegativeWarning: the service's own patch stops both.
patchKafkajsIdleLoop();

/**
 * How a JVM run uses the archive of the broker's loaded classes (JDK class
 * data sharing), which cuts about a third off a cold start: `use` maps an
 * existing archive, `dumpTo` writes one when the JVM exits normally.
 */
export type ClassArchive = { use: string } | { dumpTo: string } | undefined;

/** Where the class archive lives: beside the jars it was made from, so new jars drop it. */
export function classArchiveFile(libs: string): string {
  return `${libs}/kafka.jsa`;
}

/** The archive to use for a JVM run, when one has been made. */
export async function existingClassArchive(libs: string): Promise<ClassArchive> {
  try {
    await Deno.stat(classArchiveFile(libs));
    return { use: classArchiveFile(libs) };
  } catch {
    return undefined;
  }
}

/**
 * Moves an archive a broker dumped at exit to where later runs find it.
 * Copy and rename: readers see the old file or the complete new one, and the
 * dump may sit on another file system than the jars.
 */
export async function publishClassArchive(dumpFile: string, libs: string): Promise<void> {
  const target = classArchiveFile(libs);
  const partial = `${target}.${Deno.pid}.tmp`;
  try {
    if ((await Deno.stat(dumpFile)).size === 0) return;
    await Deno.copyFile(dumpFile, partial);
    await Deno.rename(partial, target);
  } catch {
    // No archive only means slower starts.
    await Deno.remove(partial).catch(() => {});
  } finally {
    await Deno.remove(dumpFile).catch(() => {});
  }
}

/** JVM flags for a small, fast-starting broker (or storage tool) that logs into `dir/logs`. */
export function jvmOptions(dir: string, heapMb: number, archive?: ClassArchive): string[] {
  const sharing = archive === undefined
    ? []
    : "use" in archive
    ? [`-XX:SharedArchiveFile=${archive.use}`]
    : [`-XX:ArchiveClassesAtExit=${archive.dumpTo}`];
  return [
    ...sharing,
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 64)}m`,
    "-XX:+UseSerialGC",
    // C1 only: the JIT work of a full server JVM costs more start time than it saves here.
    "-XX:TieredStopAtLevel=1",
    // No hsperfdata files left behind in the system temp folder.
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    `-Dkafka.logs.dir=${dir}/logs`,
    `-Dlog4j2.configurationFile=${KAFKA_TOOLS_DIR}log4j2.properties`,
  ];
}

/** Options of {@linkcode formatStorage}. */
export interface FormatOptions {
  /** The broker's settings file (its `log.dirs` is what gets formatted). */
  propertiesFile: string;
  /** Users stored for SCRAM login. */
  scramUsers?: readonly KafkaUser[];
  /** The cluster id, the same for every node of a cluster (default: a fresh one). */
  clusterId?: string;
}

/** Formats a new broker's storage with `kafka.tools.StorageTool format`. */
export async function formatStorage(
  dir: string,
  libs: string,
  options: FormatOptions,
): Promise<void> {
  const args = [
    ...jvmOptions(dir, 256, await existingClassArchive(libs)),
    "-cp",
    `${libs}/*`,
    "kafka.tools.StorageTool",
    "format",
    "--cluster-id",
    options.clusterId ?? newClusterId(),
    "--config",
    options.propertiesFile,
    ...scramFormatArgs(options.scramUsers ?? []),
  ];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(jdkTool("java"), { args, cwd: dir, stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "Java 17+ is needed to run the local Kafka broker; install it (e.g. apt-get install openjdk-17-jre-headless)",
      );
    }
    throw error;
  }
  if (!output.success) {
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    throw new Error(`Formatting the Kafka broker's storage failed: ${text.trim().split("\n")[0]}`);
  }
}

/** Options of {@linkcode spawnBroker}. */
export interface SpawnOptions {
  /** The broker's settings file. */
  propertiesFile: string;
  /** Maximum heap in MiB. */
  heapMb: number;
  /** Class data archive to use or to make. */
  classArchive?: ClassArchive;
}

/**
 * Starts the broker's JVM (`kafka.Kafka`) in `dir`; its console output goes
 * to `dir/logs/console.log`. The returned child's pid is the JVM's own.
 */
export function spawnBroker(dir: string, libs: string, options: SpawnOptions): Deno.ChildProcess {
  return new Deno.Command("sh", {
    // exec keeps the JVM's pid the child's pid, and lets the shell send its output to a file.
    args: [
      "-c",
      'exec "$@" >>"$0" 2>&1',
      `${dir}/logs/console.log`,
      jdkTool("java"),
      ...jvmOptions(dir, options.heapMb, options.classArchive),
      "-cp",
      `${libs}/*`,
      "kafka.Kafka",
      options.propertiesFile,
    ],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Whether a real client gets broker metadata from `bootstrap`. */
export async function answersMetadata(bootstrap: string): Promise<boolean> {
  return (await brokerIdsAt(bootstrap)).length > 0;
}

/** The node ids `bootstrap` lists as brokers, sorted; none when it does not answer. */
export async function brokerIdsAt(bootstrap: string): Promise<number[]> {
  const admin = new Kafka({
    clientId: "local-broker-probe",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    return brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  } catch {
    return [];
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
