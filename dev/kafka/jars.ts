/**
 * Resolves the Kafka broker's jars from Maven Central into
 * `dev/kafka/target/libs`, once: a marker file holding the pom's hash says
 * the folder is complete, a lock folder keeps parallel test processes from
 * running Maven together, and Maven writes into a staging folder that is
 * renamed into place, so a half-copied folder is never taken for a complete one.
 *
 * Run it directly (`deno run -A dev/kafka/jars.ts`) to resolve ahead of time.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Folder of the pom and the logging settings of the local broker. */
export const KAFKA_TOOLS_DIR: string = fileURLToPath(new URL("../../dev/kafka/", import.meta.url));

const POM = `${KAFKA_TOOLS_DIR}pom.xml`;
const TARGET = `${KAFKA_TOOLS_DIR}target`;
const LIBS = `${TARGET}/libs`;
const LOCK = `${TARGET}/libs.lock`;
const MARKER = ".resolved";
const STALE_LOCK_MS = 10 * 60_000;

/** Options of {@linkcode ensureKafkaJars}. */
export interface EnsureKafkaJarsOptions {
  /** Gives up waiting for another process's Maven run after this long (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * Makes sure the broker's jars are in `dev/kafka/target/libs` and returns
 * that folder. Runs Maven only when the folder is missing or was resolved
 * from another version of the pom.
 */
export async function ensureKafkaJars(options: EnsureKafkaJarsOptions = {}): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? STALE_LOCK_MS);
  const wanted = await pomHash();
  await Deno.mkdir(TARGET, { recursive: true });
  for (;;) {
    if (await readMarker(LIBS) === wanted) return LIBS;
    if (await tryLock()) {
      try {
        // Another process may have finished between the check and the lock.
        if (await readMarker(LIBS) !== wanted) await resolveInto(LIBS, wanted);
        return LIBS;
      } finally {
        await Deno.remove(LOCK, { recursive: true }).catch(() => {});
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for another process to resolve the Kafka jars; remove ${LOCK} if no Maven run is going on`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function pomHash(): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(POM));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readMarker(dir: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(`${dir}/${MARKER}`)).trim();
  } catch {
    return undefined;
  }
}

/** Takes the lock folder, first clearing one whose owner died or hung. */
async function tryLock(): Promise<boolean> {
  try {
    await Deno.mkdir(LOCK);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    if (await lockIsStale()) await Deno.remove(LOCK, { recursive: true }).catch(() => {});
    return false;
  }
  await Deno.writeTextFile(`${LOCK}/pid`, String(Deno.pid));
  return true;
}

async function lockIsStale(): Promise<boolean> {
  let info: Deno.FileInfo;
  let pid: string;
  try {
    info = await Deno.stat(LOCK);
    pid = (await Deno.readTextFile(`${LOCK}/pid`)).trim();
  } catch {
    // Gone already, or its owner has not written its pid yet.
    return false;
  }
  if (Date.now() - (info.mtime?.getTime() ?? Date.now()) > STALE_LOCK_MS) return true;
  // An owner whose pid left /proc died holding the lock.
  return Deno.build.os === "linux" && pid !== "" && !(await exists(`/proc/${pid}`));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function resolveInto(libs: string, hash: string): Promise<void> {
  const staging = `${libs}.staging-${Deno.pid}`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("mvn", {
      args: [
        "-q",
        "-B",
        "-f",
        POM,
        `-Dkafka.libs.dir=${staging}`,
        "dependency:copy-dependencies",
      ],
      stdin: "null",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "Maven (mvn) is needed to fetch the Kafka broker's jars; install it (e.g. apt-get install maven)",
      );
    }
    throw error;
  }
  if (!output.success) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    const firstError = text.split("\n").find((line) => line.includes("ERROR")) ?? text.trim();
    throw new Error(`Maven could not resolve the Kafka jars: ${firstError.trim()}`);
  }
  await Deno.writeTextFile(`${staging}/${MARKER}`, hash);
  if (await exists(libs)) {
    // Jars of another pom version, or copied by hand without the marker.
    const old = `${libs}.old-${Deno.pid}`;
    await Deno.rename(libs, old);
    await Deno.remove(old, { recursive: true });
  }
  await Deno.rename(staging, libs);
}

if (import.meta.main) {
  console.log(await ensureKafkaJars());
}
