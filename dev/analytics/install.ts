/**
 * What `deno task analytics` needs, installed on first use: a Python
 * environment with PyFlink (Flink's jars and `flink-json` come with it) in the
 * user's cache, where it outlives clones and CI runs, keyed by version; and
 * Flink's Kafka SQL connector from Maven Central in the git-ignored
 * `dev/analytics/target/`. A lock folder keeps parallel runs from installing
 * together, and each install is made in a staging folder renamed into place,
 * so a half-made one is never taken for a complete one.
 *
 * Run it directly (`deno run -A dev/analytics/install.ts`) to install ahead of time.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The PyFlink release installed. */
export const FLINK_VERSION = "2.3.0";
/** Flink's Kafka SQL connector (no build for Flink 2.3 yet; the one for 2.2 works). */
export const KAFKA_CONNECTOR = "org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2";
/** Python versions apache-flink 2.3.0 has wheels for. */
export const PYTHON_MINORS = [11, 12, 10] as const;

const TARGET = fileURLToPath(new URL("./target/", import.meta.url));
const STALE_LOCK_MS = 15 * 60_000;
const MARKER = ".installed";

/** What the analytics tool runs with. */
export interface FlinkRuntime {
  /** The venv's Python interpreter. */
  python: string;
  /** Jars to put on Flink's classpath. */
  jars: string[];
}

/** A one-line failure the user can act on. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** Options of {@linkcode ensureFlinkRuntime}. */
export interface EnsureOptions {
  /** Where progress lines go (default stderr). */
  progress?: (line: string) => void;
}

/** Makes sure the venv and the connector jar exist, installing what is missing (in parallel). */
export async function ensureFlinkRuntime(options: EnsureOptions = {}): Promise<FlinkRuntime> {
  const progress = options.progress ?? ((line) => console.error(line));
  await requireJava();
  const [python, jar] = await Promise.all([ensureVenv(progress), ensureConnector(progress)]);
  return { python, jars: [jar] };
}

async function run(cmd: string, args: string[]): Promise<Deno.CommandOutput | null> {
  try {
    return await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Java 11 or newer, on PATH (PyFlink starts its JVM with `java`, or from JAVA_HOME). */
async function requireJava(): Promise<void> {
  const home = Deno.env.get("JAVA_HOME");
  const java = home ? `${home}/bin/java` : "java";
  const output = await run(java, ["-version"]);
  const text = output ? new TextDecoder().decode(output.stderr) : "";
  const major = Number(/version "(?:1\.)?(\d+)/.exec(text)?.[1] ?? NaN);
  if (!output?.success || !(major >= 11)) {
    throw new SetupError(
      "Java 11 or newer is needed to run Flink; install it (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
    );
  }
}

/** The first of python3.11, 3.12, 3.10 (or python3 at one of those) that can make a venv. */
async function findPython(): Promise<{ command: string; minor: number }> {
  const candidates = [...PYTHON_MINORS.map((minor) => `python3.${minor}`), "python3"];
  let noVenv: string | undefined;
  for (const command of candidates) {
    const output = await run(command, [
      "-c",
      "import sys; print(sys.version_info[1]); import ensurepip, venv",
    ]);
    if (output === null) continue;
    const minor = Number(new TextDecoder().decode(output.stdout).trim());
    if (!(PYTHON_MINORS as readonly number[]).includes(minor)) continue;
    if (!output.success) {
      noVenv = command;
      continue;
    }
    return { command, minor };
  }
  if (noVenv) {
    throw new SetupError(
      `${noVenv} cannot create a virtual environment; install its venv module (e.g. apt-get install python3-venv)`,
    );
  }
  throw new SetupError(
    "Python 3.10, 3.11 or 3.12 is needed to run Flink (apache-flink has no wheels for others); install one (e.g. apt-get install python3 python3-venv)",
  );
}

/** The user's cache folder, as XDG says. */
function cacheHome(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return xdg;
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new SetupError("Set HOME or XDG_CACHE_HOME: the Python environment is kept there");
  }
  return `${home}/.cache`;
}

async function ensureVenv(progress: (line: string) => void): Promise<string> {
  const python = await findPython();
  const dir = `${cacheHome()}/twitch-datagen/pyflink-${FLINK_VERSION}-py3.${python.minor}`;
  await withInstallLock(dir, async () => {
    progress(
      `Installing apache-flink ${FLINK_VERSION} into ${dir} (first use only: a minute or more, about 850 MB)`,
    );
    const staging = `${dir}.staging-${Deno.pid}`;
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await mustRun(python.command, ["-m", "venv", staging], "could not create a Python venv");
    await mustRun(
      `${staging}/bin/python`,
      [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        `apache-flink==${FLINK_VERSION}`,
      ],
      `pip could not install apache-flink ${FLINK_VERSION}`,
    );
    await Deno.writeTextFile(`${staging}/${MARKER}`, FLINK_VERSION);
    await replaceWith(dir, staging);
    progress(`Installed apache-flink ${FLINK_VERSION}`);
  });
  return `${dir}/bin/python`;
}

async function ensureConnector(progress: (line: string) => void): Promise<string> {
  const [group, artifact, version] = KAFKA_CONNECTOR.split(":");
  const dir = `${TARGET}${artifact}-${version}`;
  await Deno.mkdir(TARGET, { recursive: true });
  await withInstallLock(dir, async () => {
    progress(`Fetching ${KAFKA_CONNECTOR} from Maven Central into ${dir}`);
    const staging = `${dir}.staging-${Deno.pid}`;
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    const output = await run("mvn", [
      "-q",
      "-B",
      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
      `-Dartifact=${group}:${artifact}:${version}`,
      `-DoutputDirectory=${staging}`,
    ]);
    if (output === null) {
      throw new SetupError(
        "Maven (mvn) is needed to fetch Flink's Kafka connector; install it (e.g. apt-get install maven)",
      );
    }
    if (!output.success) {
      const text = new TextDecoder().decode(output.stdout);
      const firstError = text.split("\n").find((line) => line.includes("ERROR")) ?? text.trim();
      throw new SetupError(`Maven could not fetch ${KAFKA_CONNECTOR}: ${firstError.trim()}`);
    }
    await Deno.writeTextFile(`${staging}/${MARKER}`, KAFKA_CONNECTOR);
    await replaceWith(dir, staging);
  });
  return `${dir}/${artifact}-${version}.jar`;
}

async function mustRun(cmd: string, args: string[], what: string): Promise<void> {
  const output = await run(cmd, args);
  if (output?.success) return;
  const text = output ? new TextDecoder().decode(output.stderr).trim() : `${cmd} not found`;
  const last = text.split("\n").filter((line) => line.trim() !== "").at(-1) ?? "";
  throw new SetupError(`${what}: ${last}`);
}

async function replaceWith(dir: string, staging: string): Promise<void> {
  if (await exists(dir)) {
    const old = `${dir}.old-${Deno.pid}`;
    await Deno.rename(dir, old);
    await Deno.remove(old, { recursive: true });
  }
  await Deno.rename(staging, dir);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function installed(dir: string): Promise<boolean> {
  return await exists(`${dir}/${MARKER}`);
}

/** Runs `install` unless `dir` is complete, one process at a time. */
async function withInstallLock(dir: string, install: () => Promise<void>): Promise<void> {
  const lock = `${dir}.lock`;
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  await Deno.mkdir(parent, { recursive: true });
  for (;;) {
    if (await installed(dir)) return;
    try {
      await Deno.mkdir(lock);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      if (await lockIsStale(lock)) await Deno.remove(lock, { recursive: true }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    try {
      await Deno.writeTextFile(`${lock}/pid`, String(Deno.pid));
      if (!(await installed(dir))) await install();
      return;
    } finally {
      await Deno.remove(lock, { recursive: true }).catch(() => {});
    }
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  let info: Deno.FileInfo;
  let pid: string;
  try {
    info = await Deno.stat(lock);
    pid = (await Deno.readTextFile(`${lock}/pid`)).trim();
  } catch {
    return false;
  }
  if (Date.now() - (info.mtime?.getTime() ?? Date.now()) > STALE_LOCK_MS) return true;
  return Deno.build.os === "linux" && pid !== "" && !(await exists(`/proc/${pid}`));
}

if (import.meta.main) {
  try {
    const runtime = await ensureFlinkRuntime();
    console.log(runtime.python);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
}
