// Packaging checks that need no Docker engine: the Compose file through
// docker-compose's own validator, the Dockerfile through a parser, the compile
// task through a real `deno compile`, the systemd unit through systemd-analyze.
import assert from "node:assert/strict";
import {
  declaredNames,
  execForm,
  healthcheckCommand,
  isPinnedImage,
  parseDockerfile,
  parseImageRef,
  type Stage,
} from "./support/dockerfile.ts";
import { SETTING_NAMES } from "../src/config/settings.ts";
import { mergeEnvironment, parseConfig } from "../src/config/config.ts";

const root = new URL("../", import.meta.url);
const composePath = new URL("docker-compose.yml", root).pathname;
const dockerfile = parseDockerfile(await Deno.readTextFile(new URL("Dockerfile", root)));
const denoJson: DenoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const unitText = await Deno.readTextFile(new URL("deploy/twitch-datagen.service", root));
const inCI = Deno.env.get("CI") === "true";

/** One kind in a permission set: all, a list, or an allow list whose other reads are ignored. */
type PermissionSetting = boolean | string[] | { allow: boolean | string[]; ignore?: boolean };

interface DenoJson {
  tasks: Record<string, string>;
  permissions: Record<string, Record<string, PermissionSetting | undefined>>;
  unstable?: string[];
}

interface ComposeService {
  image: string;
  ports?: (string | { published: number; target: number; host_ip?: string })[];
  stop_grace_period?: string;
  build?: unknown;
  profiles?: string[];
  environment: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

interface CompiledMetadata {
  permissions: Record<string, string[] | null>;
  unstable_config: { features: string[] };
  v8_flags: string[];
}

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string,
  args: string[],
  options: Deno.CommandOptions = {},
): Promise<Output> {
  const output = await new Deno.Command(cmd, { ...options, args, stdin: "null" }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function onPath(tool: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

// A missing tool skips the test on a developer machine, and fails it in CI,
// where a skipped packaging check would pass unnoticed.
function toolTest(tool: string, install: string, name: string, fn: () => Promise<void>): void {
  const present = onPath(tool);
  Deno.test({
    name: present ? name : `${name} (skipped: ${tool} is not installed)`,
    ignore: !present && !inCI,
    fn: present ? fn : () => {
      throw new Error(`${tool} is not installed; install it first (${install})`);
    },
  });
}

// docker-compose with a clean environment and an empty env file, so a
// developer's shell or .env cannot change what is validated.
async function compose(file: string, args: string[], envFile = ""): Promise<Output> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/env`, envFile);
    return await run("docker-compose", ["--env-file", `${dir}/env`, "-f", file, ...args], {
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: dir },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// The resolved configuration as data; python3-yaml comes with docker-compose.
async function resolvedCompose(
  envFile = "",
): Promise<{ services: Record<string, ComposeService> }> {
  const config = await compose(composePath, ["config"], envFile);
  assert.equal(config.code, 0, config.stderr);
  const script = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
  })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(config.stdout));
  await writer.close();
  const { code, stdout } = await child.output();
  assert.equal(code, 0);
  return JSON.parse(new TextDecoder().decode(stdout));
}

const installCompose = "apt-get install docker-compose";

for (
  const profile of [[], ["--profile", "console"], ["--profile", "materialize"], [
    "--profile",
    "flink",
  ]]
) {
  const label = profile.length ? `the ${profile[1]} profile` : "the default services";
  toolTest("docker-compose", installCompose, `docker-compose config accepts ${label}`, async () => {
    const result = await compose(composePath, [...profile, "config", "-q"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
  });
}

toolTest(
  "docker-compose",
  installCompose,
  "docker-compose config rejects a copy with an invalid depends_on condition",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const text = await Deno.readTextFile(composePath);
      await Deno.writeTextFile(`${dir}/good.yml`, text);
      await Deno.writeTextFile(
        `${dir}/broken.yml`,
        text.replace("condition: service_healthy", "condition: service_maybe"),
      );
      assert.equal((await compose(`${dir}/good.yml`, ["config", "-q"])).code, 0);
      const broken = await compose(`${dir}/broken.yml`, ["config", "-q"]);
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, /depends_on\.kafka\.condition contains "service_maybe"/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

toolTest(
  "docker-compose",
  installCompose,
  "compose datagen defaults to simulated data and waits for a healthy kafka",
  async () => {
    const { services } = await resolvedCompose();
    assert.equal(services.datagen.environment.SOURCE, "simulated");
    assert.equal(services.datagen.environment.KAFKA_BROKERS, "kafka:9092");
    assert.deepEqual(services.datagen.depends_on, { kafka: { condition: "service_healthy" } });
    assert.deepEqual(services.kafka.healthcheck?.test, [
      "CMD",
      "/opt/kafka/bin/kafka-broker-api-versions.sh",
      "--bootstrap-server",
      "localhost:9092",
    ]);
  },
);

toolTest(
  "docker-compose",
  installCompose,
  "compose passes SOURCE and Twitch credentials from .env but keeps the broker address",
  async () => {
    const envFile = "SOURCE=twitch\nTWITCH_CLIENT_ID=abc\nKAFKA_BROKERS=localhost:9092\n";
    const { environment } = (await resolvedCompose(envFile)).services.datagen;
    assert.equal(environment.SOURCE, "twitch");
    assert.equal(environment.TWITCH_CLIENT_ID, "abc");
    assert.equal(environment.TWITCH_CLIENT_SECRET, null);
    assert.equal(environment.KAFKA_BROKERS, "kafka:9092");
  },
);

toolTest(
  "docker-compose",
  installCompose,
  "compose pins every pulled image and puts the extras behind profiles",
  async () => {
    const { services } = await resolvedCompose();
    const pulled = Object.entries(services).filter(([, service]) => !service.build);
    for (const [name, service] of pulled) {
      assert.ok(isPinnedImage(service.image), `${name}: ${service.image} is not pinned`);
    }
    const profiles = Object.fromEntries(
      Object.entries(services).map(([name, service]) => [name, service.profiles]),
    );
    assert.deepEqual(profiles, {
      kafka: undefined,
      datagen: undefined,
      "kafka-ui": ["console"],
      materialized: ["materialize"],
      "materialize-init": ["materialize"],
      "flink-connector": ["flink"],
      "flink-jobmanager": ["flink"],
      "flink-taskmanager": ["flink"],
      "flink-sql-client": ["flink"],
    });
  },
);

toolTest(
  "docker-compose",
  installCompose,
  "compose passes every setting of the service to datagen",
  async () => {
    const { environment } = (await resolvedCompose()).services.datagen;
    const missing = SETTING_NAMES.filter((name) => !(name in environment));
    assert.deepEqual(missing, []);
    const envFile =
      "KAFKA_SASL_MECHANISM=plain\nSCAN_CONCURRENCY=4\nKAFKA_REBUILD_TIMEOUT_MS=5000\n";
    const passed = (await resolvedCompose(envFile)).services.datagen.environment;
    assert.equal(passed.KAFKA_SASL_MECHANISM, "plain");
    assert.equal(passed.SCAN_CONCURRENCY, "4");
    assert.equal(passed.KAFKA_REBUILD_TIMEOUT_MS, "5000");
  },
);

toolTest(
  "docker-compose",
  installCompose,
  "compose publishes Kafka and its web UI on loopback only and lets datagen finish its shutdown",
  async () => {
    const { services } = await resolvedCompose();
    assert.deepEqual(services.kafka.ports, ["127.0.0.1:9092:19092/tcp"]);
    assert.deepEqual(services["kafka-ui"].ports, ["127.0.0.1:8081:8080/tcp"]);
    // The service's shutdown takes up to 30 s (20 s for the scan, 10 s for the flush).
    const grace = /^(\d+)s$/.exec(services.datagen.stop_grace_period ?? "");
    assert.ok(
      grace && Number(grace[1]) > 30,
      `stop_grace_period ${services.datagen.stop_grace_period}`,
    );
  },
);

function compileOutputPath(): string {
  const match = /--output\s+(\S+)/.exec(denoJson.tasks.compile);
  assert.ok(match, `no --output in the compile task: ${denoJson.tasks.compile}`);
  return match[1];
}

function finalStage(): Stage {
  return dockerfile.stages[dockerfile.stages.length - 1];
}

function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((item) => item.keyword === keyword).map((item) => item.args);
}

Deno.test("every base image in the Dockerfile is pinned by tag or digest", () => {
  const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));
  const bases = dockerfile.stages.map((stage) => stage.base).filter((base) =>
    !stageNames.has(base)
  );
  assert.equal(bases.length, 2);
  for (const base of bases) assert.ok(isPinnedImage(base), `${base} is not pinned`);
});

Deno.test("the Dockerfile builds on a Deno 2 image pinned by digest", () => {
  const build = parseImageRef(dockerfile.stages[0].base);
  assert.equal(build.repository, "denoland/deno");
  assert.match(build.tag ?? "", /^2\.\d+\.\d+$/);
  assert.match(build.digest ?? "", /^sha256:[0-9a-f]{64}$/);
});

Deno.test("the image's final stage is distroless cc-debian12 nonroot running as nonroot", () => {
  const base = parseImageRef(finalStage().base);
  assert.deepEqual([base.repository, base.tag], ["gcr.io/distroless/cc-debian12", "nonroot"]);
  assert.deepEqual(instructions(finalStage(), "USER"), ["nonroot"]);
});

Deno.test("the final stage holds only the compiled binary and runs it", () => {
  const compileOutput = compileOutputPath();
  assert.deepEqual(instructions(finalStage(), "COPY"), [
    `--from=build /src/${compileOutput} /app/twitch-datagen`,
  ]);
  assert.deepEqual(instructions(finalStage(), "RUN"), []);
  assert.deepEqual(execForm(instructions(finalStage(), "ENTRYPOINT")[0]), ["/app/twitch-datagen"]);
  assert.deepEqual(instructions(finalStage(), "EXPOSE"), ["8080"]);
});

Deno.test("the image health check runs the binary with --healthcheck", () => {
  const [healthcheck] = instructions(finalStage(), "HEALTHCHECK");
  assert.deepEqual(healthcheckCommand(healthcheck), ["/app/twitch-datagen", "--healthcheck"]);
});

Deno.test("the build stage compiles with deno task compile, never a hand-written deno compile", () => {
  const runs = dockerfile.stages.flatMap((stage) => instructions(stage, "RUN"));
  assert.ok(runs.includes("deno task compile"), runs.join("\n"));
  assert.deepEqual(runs.filter((command) => /deno\s+compile/.test(command)), []);
});

Deno.test("the Dockerfile bakes in no secret and copies no .env", () => {
  const all = dockerfile.stages.flatMap((stage) => stage.instructions)
    .concat(dockerfile.globalArgs);
  const names = all.flatMap(declaredNames);
  const secretLooking = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
  assert.deepEqual(names.filter((name) => secretLooking.test(name)), []);
  const copies = all.filter((item) => item.keyword === "COPY" || item.keyword === "ADD");
  assert.deepEqual(copies.filter((item) => /(^|\s|\/)\.env/.test(item.args)), []);
});

Deno.test(".dockerignore keeps secrets, history and build output out of the context", async () => {
  const ignored = (await Deno.readTextFile(new URL(".dockerignore", root)))
    .split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));
  for (const entry of [".git", ".env", "dist", ".cache", "dev", "tests", "bench"]) {
    assert.ok(ignored.includes(entry), `${entry} is not in .dockerignore`);
  }
});

const allowAll = /^(-A|--allow-all)$/;
const allowFlag = /^(--allow-|-[RWNESI]$|-[RWNESI]=)/;

function permissionSet(task: string): string | undefined {
  for (const word of task.split(/\s+/)) {
    if (word === "-P" || word === "--permission-set") return "default";
    const named = /^(?:-P|--permission-set)=(.+)$/.exec(word);
    if (named) return named[1];
  }
  return undefined;
}

Deno.test("start and compile tasks take their permissions from the same permission set", () => {
  const { start, compile } = denoJson.tasks;
  assert.equal(permissionSet(start), "default");
  assert.equal(permissionSet(compile), permissionSet(start));
  assert.ok(denoJson.permissions?.default, "deno.json has no default permission set");
  for (const task of [start, compile]) {
    const words = task.split(/\s+/);
    assert.deepEqual(words.filter((word: string) => allowAll.test(word)), [], task);
    assert.deepEqual(words.filter((word: string) => allowFlag.test(word)), [], task);
  }
});

// Finds the JSON metadata that `deno compile` appends to the runtime; it sits
// at the end of the file, so the last match is the one.
function compiledMetadata(binary: Uint8Array): CompiledMetadata {
  const marker = new TextEncoder().encode('{"argv":');
  let start = -1;
  for (let i = binary.length - marker.length; i >= 0 && start === -1; i--) {
    if (marker.every((byte, j) => binary[i + j] === byte)) start = i;
  }
  assert.notEqual(start, -1, "no metadata in the compiled binary");
  const text = new TextDecoder().decode(binary.subarray(start, start + 1_000_000));
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return JSON.parse(text.slice(0, i + 1));
  }
  throw new Error("unterminated metadata in the compiled binary");
}

// `deno compile` cannot download its runtime here, so DENORT_BIN points it at
// the deno executable. The result is never run (it would start a REPL); only
// the metadata that compile wrote into it is read.
Deno.test("deno task compile embeds the default permission set and the cron flag", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(new URL("deno.json", root), `${dir}/deno.json`);
    await Deno.writeTextFile(`${dir}/main.ts`, "console.log(Deno.args);\n");
    const result = await run(Deno.execPath(), ["task", "compile"], {
      cwd: dir,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
    });
    assert.equal(result.code, 0, result.stderr);
    assertEmbedsDenoJsonSettings(await Deno.readFile(`${dir}/${compileOutputPath()}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function assertEmbedsDenoJsonSettings(binary: Uint8Array): void {
  const metadata = compiledMetadata(binary);
  const granted = denoJson.permissions.default;
  for (const kind of ["read", "write", "net", "env", "sys", "run", "ffi"]) {
    // A kind is `true` (all), a list, or `{ allow, ignore }` (ignore: unlisted reads give undefined).
    const setting = granted[kind];
    const listed = typeof setting === "object" && !Array.isArray(setting) ? setting : undefined;
    const allow = listed ? listed.allow : setting;
    const expected = allow === true ? [] : allow ?? null;
    assert.deepEqual(metadata.permissions[`allow_${kind}`], expected, kind);
    if (listed?.ignore === true) assert.deepEqual(metadata.permissions[`ignore_${kind}`], [], kind);
  }
  // The V8 flags of the start task are embedded too.
  const v8 = /--v8-flags=(\S+)/.exec(denoJson.tasks.start)?.[1].split(",") ?? [];
  for (const flag of v8) assert.ok(metadata.v8_flags.includes(flag), flag);
  assert.deepEqual(metadata.unstable_config.features, denoJson.unstable);
}

// Replays the build stage without Docker: its COPY steps from the repository
// into a scratch directory, then its RUN steps there. Only the runtime that
// compile embeds differs (DENORT_BIN, as above).
Deno.test("the Dockerfile's build stage compiles the service from what it copies", async () => {
  const dir = await Deno.makeTempDir();
  const ignored = (await Deno.readTextFile(new URL(".dockerignore", root))).split("\n")
    .map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));
  try {
    let workdir = dir;
    for (const { keyword, args } of dockerfile.stages[0].instructions) {
      if (keyword === "WORKDIR") {
        workdir = `${dir}${args}`;
        await Deno.mkdir(workdir, { recursive: true });
      } else if (keyword === "COPY") {
        const words = args.split(/\s+/);
        const target = `${workdir}/${words.pop()}`;
        for (const source of words) {
          assert.ok(!ignored.includes(source), `${source} is copied but listed in .dockerignore`);
          const from = new URL(source, root).pathname;
          const into = target.endsWith("/") ? `${target}${source}` : target;
          if ((await Deno.stat(from)).isDirectory) {
            await Deno.mkdir(into, { recursive: true });
            assert.equal((await run("cp", ["-R", `${from}/.`, into])).code, 0);
          } else {
            await Deno.copyFile(from, into);
          }
        }
      } else if (keyword === "RUN") {
        const result = await run("sh", ["-c", args], {
          cwd: workdir,
          env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
        });
        assert.equal(result.code, 0, `RUN ${args}\n${result.stderr}`);
      } else {
        assert.fail(`the replay does not know ${keyword}; teach it before using it`);
      }
    }
    const [copy] = instructions(finalStage(), "COPY");
    const built = copy.split(/\s+/)[1];
    assertEmbedsDenoJsonSettings(await Deno.readFile(`${dir}${built}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function unitSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) settings.set(match[1], match[2].trim());
  }
  return settings;
}

// systemd-analyze insists that ExecStart exists, so the copy runs /bin/true.
async function verifyUnit(text: string): Promise<Output> {
  const dir = await Deno.makeTempDir();
  try {
    const copy = text.replace(/^ExecStart=.*$/m, "ExecStart=/bin/true");
    await Deno.writeTextFile(`${dir}/twitch-datagen.service`, copy);
    return await run("systemd-analyze", ["verify", `${dir}/twitch-datagen.service`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const installSystemd = "apt-get install systemd";

toolTest("systemd-analyze", installSystemd, "systemd-analyze verify accepts the unit", async () => {
  const result = await verifyUnit(unitText);
  assert.equal(result.code, 0, result.stderr);
  // verify exits 0 on unknown keys and bad values, warning on stderr only.
  assert.equal(result.stderr, "");
});

toolTest(
  "systemd-analyze",
  installSystemd,
  "systemd-analyze verify warns about a copy of the unit with a bad Restart value",
  async () => {
    const result = await verifyUnit(unitText.replace("Restart=on-failure", "Restart=sometimes"));
    assert.match(result.stderr, /Failed to parse service restart specifier, ignoring: sometimes/);
  },
);

toolTest(
  "systemd-analyze",
  installSystemd,
  "the unit's sandboxing keeps systemd's exposure score at 2.0 or below",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const copy = unitText.replace(/^ExecStart=.*$/m, "ExecStart=/bin/true");
      await Deno.writeTextFile(`${dir}/twitch-datagen.service`, copy);
      const result = await run("systemd-analyze", [
        "security",
        "--offline=true",
        "--threshold=20",
        `${dir}/twitch-datagen.service`,
      ]);
      assert.equal(
        result.code,
        0,
        result.stdout.split("\n").filter((l) => l.includes("✗")).join("\n"),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("the unit runs the installed binary as a dynamic user and outlasts a 30 s shutdown", () => {
  const unit = unitSettings(unitText);
  assert.equal(unit.get("ExecStart"), "/usr/local/bin/twitch-datagen");
  assert.equal(unit.get("EnvironmentFile"), "/etc/twitch-datagen/env");
  assert.equal(unit.get("DynamicUser"), "yes");
  assert.equal(unit.get("Restart"), "on-failure");
  assert.equal(unit.get("CapabilityBoundingSet"), "");
  assert.equal(unit.get("MemoryDenyWriteExecute"), "no");
  assert.equal(unit.get("RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX");
  assert.ok(Number.parseInt(unit.get("TimeoutStopSec") ?? "0") >= 30, "TimeoutStopSec < 30 s");
});

Deno.test("the Materialize script reads twitch-streams as upsert JSON and keeps 48 hours", async () => {
  const sql = await Deno.readTextFile(new URL("deploy/materialize/twitch_streams.sql", root));
  const compact = sql.replace(/--.*$/gm, "").replace(/\s+/g, " ");
  assert.match(
    compact,
    /\(TOPIC 'twitch-streams'\) KEY FORMAT TEXT VALUE FORMAT JSON ENVELOPE UPSERT;/,
  );
  assert.match(compact, /WHERE mz_now\(\) <= started_at \+ INTERVAL '48 hours';/);
  const columns = [...compact.matchAll(/ AS "?([a-z_]+)"?[,\s]/g)].map((match) => match[1]);
  for (const column of ["id", "viewer_count", "started_at", "is_mature", "tags", "type"]) {
    assert.ok(columns.includes(column), `${column} missing from the view`);
  }
});

Deno.test(".env.example leaves credentials empty and values unquoted for docker --env-file", async () => {
  const lines = (await Deno.readTextFile(new URL(".env.example", root))).split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line));
  const secrets = lines.filter((line) => /SECRET|PASSWORD|TOKEN/.test(line.split("=")[0]));
  assert.deepEqual(secrets, ["TWITCH_CLIENT_SECRET="]);
  assert.deepEqual(lines.filter((line) => /=["']/.test(line)), []);
});

/** The variables a settings example names, set or commented out, in order. */
function exampleNames(text: string): string[] {
  return [...text.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
}

Deno.test("the production settings example runs on real Helix with the default replication", async () => {
  const text = await Deno.readTextFile(new URL("deploy/twitch-datagen.env.example", root));
  const active = text.split("\n").filter((line) => /^[A-Z_]+=/.test(line));
  assert.deepEqual(
    active.filter((line) => /^(SOURCE|KAFKA_REPLICATION_FACTOR|SIM_)/.test(line)),
    [],
  );
  assert.deepEqual(active.filter((line) => /SECRET|PASSWORD/.test(line)), [
    "TWITCH_CLIENT_SECRET=",
  ]);
  assert.deepEqual(active.filter((line) => /=["']/.test(line)), []);
  const known = new Set<string>(SETTING_NAMES);
  assert.deepEqual(exampleNames(text).filter((name) => !known.has(name)), []);
  const filled = text.replace("TWITCH_CLIENT_ID=", "TWITCH_CLIENT_ID=abc")
    .replace("TWITCH_CLIENT_SECRET=", "TWITCH_CLIENT_SECRET=def");
  const config = parseConfig(mergeEnvironment({}, { envFileText: filled }));
  assert.equal(config.source, "twitch");
  assert.equal(config.kafka.replicationFactor, undefined);
  assert.equal(config.kafka.brokers.length, 3);
  assert.equal(config.log.format, "json");
});

Deno.test("the systemd steps install the production example, not the development one", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const step = "install -m 0640 deploy/twitch-datagen.env.example /etc/twitch-datagen/env";
  assert.ok(readme.includes(`sudo ${step}`));
  assert.ok(unitText.includes(`#   ${step}`));
  assert.ok(!/install .*\.env\.example \/etc/.test(readme.replace(step, "")), "README");
  assert.ok(!/install .*\.env\.example \/etc/.test(unitText.replace(step, "")), "unit");
});

Deno.test(".env.example names every setting of the service", async () => {
  const names = exampleNames(await Deno.readTextFile(new URL(".env.example", root)));
  assert.deepEqual(SETTING_NAMES.filter((name) => !names.includes(name)), []);
});

Deno.test("the runtime base is pinned by digest, or the Dockerfile and README say why not", async () => {
  const base = finalStage().base;
  if (base.includes("@sha256:")) return;
  const text = await Deno.readTextFile(new URL("Dockerfile", root));
  assert.match(text, /# Not pinned by digest, unlike the build stage: .*\n/);
  assert.match(
    text,
    /docker buildx imagetools inspect\s*\n?#?\s*gcr\.io\/distroless\/cc-debian12:nonroot/,
  );
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.match(readme.replace(/\s+/g, " "), /the runtime base is pinned by tag only, because/);
});

// Memory: the heap limit is fixed when a process starts and compiled into the binary, so every
// way of running the service must carry the same one, and the Compose file and the systemd unit
// must give the process that heap plus the runtime's own memory, or the kernel's OOM killer ends
// it before the service can say which setting to raise.

/** The runtime's memory beside the V8 heap: peak RSS minus peak heap in `deno task bench:memory`. */
const NON_HEAP_MB = 112;

function v8Flag(task: string, flag: string): number {
  const flags = /--v8-flags=(\S+)/.exec(denoJson.tasks[task])?.[1].split(",") ?? [];
  const value = flags.find((f) => f.startsWith(`${flag}=`))?.split("=")[1];
  assert.ok(value !== undefined, `the ${task} task sets no ${flag}`);
  return Number(value);
}

/** MB the V8 heap of the start task may take: old space plus three semi-spaces. */
function heapMb(): number {
  return v8Flag("start", "--max-old-space-size") + 3 * v8Flag("start", "--max-semi-space-size");
}

function memoryMaxMb(): number {
  const value = /^MemoryMax=(\d+)M$/m.exec(unitText)?.[1];
  assert.ok(value !== undefined, "the unit sets no MemoryMax=<n>M");
  return Number(value);
}

Deno.test("every task that runs the service gives V8 the same heap limit", () => {
  for (const task of ["dev", "compile", "bench"]) {
    for (const flag of ["--max-old-space-size", "--max-semi-space-size"]) {
      assert.equal(v8Flag(task, flag), v8Flag("start", flag), `${task} ${flag}`);
    }
  }
});

Deno.test("the systemd unit gives the process the V8 heap limit plus the runtime's own memory", () => {
  assert.ok(memoryMaxMb() >= heapMb() + NON_HEAP_MB, `MemoryMax=${memoryMaxMb()}M`);
  const oldSpace = v8Flag("start", "--max-old-space-size");
  assert.match(unitText, new RegExp(`--max-old-space-size=${oldSpace}\\b`), "the unit's comment");
});

toolTest(
  "docker-compose",
  installCompose,
  "the Compose file gives the service the same memory limit as the systemd unit",
  async () => {
    const { datagen } = (await resolvedCompose()).services as Record<
      string,
      ComposeService & { mem_limit?: string }
    >;
    assert.equal(datagen.mem_limit, `${memoryMaxMb()}m`);
    const text = await Deno.readTextFile(composePath);
    const oldSpace = v8Flag("start", "--max-old-space-size");
    assert.match(text, new RegExp(`--max-old-space-size=${oldSpace}\\b`), "the Compose comment");
  },
);
