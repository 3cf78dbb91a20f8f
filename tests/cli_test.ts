import assert from "node:assert/strict";
import { logLines, ROOT, runService, START_FLAGS } from "./support/service.ts";
import { BAD_CONFIG, TWITCH_SECRET } from "../src/config/testdata/bad_config.ts";
import { freePort } from "../dev/ports.ts";

const SECRET = "zz-distinctive-secret-41";
const base = { TWITCH_CLIENT_ID: "client", TWITCH_CLIENT_SECRET: SECRET };

/** [env, args, the exact stderr line]. */
const CASES: [Record<string, string>, string[], string][] = [
  [
    {},
    ["--once"],
    "error: TWITCH_CLIENT_ID: is not set; set it to your Twitch app's client id, or use SOURCE=simulated",
  ],
  [
    { ...base, KAFKA_BROKERS: "nope" },
    ["--once"],
    'error: KAFKA_BROKERS: "nope" is not a broker address; expected host:port[,host:port...], e.g. localhost:9092',
  ],
  [
    { ...base, SCHEDULE: "* * *" },
    [],
    'error: SCHEDULE: "* * *" has 3 fields; expected five: minute hour day-of-month month day-of-week, e.g. "* * * * *"',
  ],
  [
    { ...base, KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u" },
    [],
    "error: KAFKA_SASL_PASSWORD: is not set; KAFKA_SASL_MECHANISM needs a password",
  ],
  [
    { ...base, KAFKA_SSL_CA_FILE: "/does/not/exist.pem" },
    ["--once"],
    'error: KAFKA_SSL_CA_FILE: cannot read "/does/not/exist.pem" (NotFound); give a readable PEM file',
  ],
  [
    { SOURCE: "simulated", SIM_STREAMS: "-1" },
    ["--once"],
    "error: SIM_STREAMS: -1 is out of range; expected an integer from 0 to 1000000",
  ],
  [
    { ...base },
    ["--bogus"],
    "error: command line: Unknown option '--bogus'; run with --help to see the flags",
  ],
  [
    { ...base },
    ["--env-file", "/does/not/exist.env"],
    'error: --env-file: cannot read "/does/not/exist.env" (NotFound); give a readable file',
  ],
  [
    { ...base },
    ["--http-port", "99999"],
    "error: HTTP_PORT: 99999 is out of range; expected an integer from 0 to 65535",
  ],
];

Deno.test("bad configuration exits 2 with exactly one line on stderr and no secret", async () => {
  for (const [env, args, line] of CASES) {
    const result = await runService(args, env);
    assert.equal(result.code, 2, `${line}\n${result.stderr}`);
    assert.equal(result.stderr, `${line}\n`);
    assert.equal(result.stdout, "");
    assert.ok(!result.stderr.includes(SECRET));
  }
});

Deno.test("every bad value of every variable exits 2 with its one line, as the program runs", async () => {
  for (const [env, message] of BAD_CONFIG) {
    const result = await runService(["--once"], env);
    assert.equal(result.code, 2, `${message}\n${result.stderr}`);
    assert.equal(result.stderr, `error: ${message}\n`);
    assert.ok(!result.stderr.includes(TWITCH_SECRET));
  }
});

Deno.test("--help lists every setting and exits 0", async () => {
  const result = await runService(["--help"], {});
  assert.equal(result.code, 0);
  for (
    const name of ["KAFKA_BROKERS", "SCHEDULE", "SIM_STREAMS", "HTTP_PORT", "KAFKA_SASL_MECHANISM"]
  ) {
    assert.ok(result.stdout.includes(name), name);
  }
});

Deno.test("--version prints the version from deno.json", async () => {
  const { default: config } = await import("../deno.json", { with: { type: "json" } });
  const result = await runService(["--version"], {});
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `twitch-datagen ${config.version}\n`);
});

Deno.test("settings are read from the .env file in the working directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/.env`, "SOURCE=simulated\nKAFKA_TOPIC='bad topic'\n");
    const result = await runService(["--once"], {}, { cwd: dir });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'error: KAFKA_TOPIC: "bad topic" is not a valid topic name; expected 1-249 characters of letters, digits, ".", "_" or "-"\n',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--healthcheck exits 1 when nothing listens", async () => {
  const result = await runService(["--healthcheck"], { HTTP_PORT: String(freePort()) });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, "");
});

Deno.test("a dry run whose reader closes stdout early (| head -3) ends quietly with exit 0", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...START_FLAGS,
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}main.ts`,
      "--dry-run",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      HTTP_PORT: "0",
      LOG_FORMAT: "json",
      SOURCE: "simulated",
      SIM_STREAMS: "5000",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read the first lines, then close the pipe, as `head -3` does.
  const reader = child.stdout.getReader();
  let text = "";
  while (text.split("\n").length <= 3) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  assert.equal(text.split("\n").length > 3, true);
  assert.equal(status.code, 0, stderr);
  const errors = logLines(stderr).filter((l) => l.level === "ERROR" || l.level === "FATAL");
  assert.deepEqual(errors, []);
});
