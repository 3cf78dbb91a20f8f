import assert from "node:assert/strict";
import { fetchToken, getStreams } from "../src/sim/_test_utils.ts";

const CLI = new URL("../src/sim_cli.ts", import.meta.url).pathname;

function command(env: Record<string, string>, cwd: string, stdout: "piped" | "null" = "piped") {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", CLI],
    env: { NO_COLOR: "1", ...env },
    cwd,
    stdin: "null",
    stdout,
    stderr: "piped",
  });
}

/** Reads stdout until a line contains `marker`; returns everything read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  marker: string,
): Promise<string> {
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return text;
}

Deno.test("the command serves until SIGTERM, then stops cleanly with exit code 0", async () => {
  const dir = await Deno.makeTempDir();
  const child = command({ SIM_PORT: "0", SIM_STREAMS: "321" }, dir).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const banner = await readUntil(reader, "Stop with Ctrl-C.");
  const port = Number(/TWURPLE_MOCK_API_PORT=(\d+)/.exec(banner)?.[1]);
  assert.ok(port > 0, banner);
  assert.match(banner, /client id: +datagen-sim-client/);
  assert.match(banner, /client secret: +datagen-sim-secret/);

  const sim = {
    url: `http://localhost:${port}`,
    clientId: "datagen-sim-client",
    clientSecret: "datagen-sim-secret",
  };
  const page = await getStreams(sim, await fetchToken(sim), { first: "100" });
  assert.equal(page.status, 200);
  assert.equal(page.body.data.length, 100);

  child.kill("SIGTERM");
  const rest = await readUntil(reader, "\n__end__");
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(rest, /Stopped on SIGTERM after 2 requests \(1 pages, 0 rate-limited, 1 tokens\)\./);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a bad value prints one line naming the variable and exits with 2", async () => {
  const dir = await Deno.makeTempDir();
  const output = await command({ SIM_FAULT_RATE: "lots" }, dir).output();
  assert.equal(output.code, 2);
  assert.equal(
    new TextDecoder().decode(output.stderr),
    'SIM_FAULT_RATE: "lots" is not a number; expected a fraction from 0 to 1, e.g. 0.05\n',
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("settings come from ./.env when the environment does not set them", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/.env`, "SIM_SEED=abc\nSIM_CHURN=-1\n");
  const output = await command({ SIM_SEED: "5" }, dir).output();
  assert.equal(output.code, 2);
  assert.equal(
    new TextDecoder().decode(output.stderr),
    "SIM_CHURN: -1 is out of range; expected a number from 0 (static) to 10000, e.g. 1\n",
  );
  await Deno.remove(dir, { recursive: true });
});
