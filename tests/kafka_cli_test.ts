import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "../dev/ports.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

Deno.test("the kafka task serves a broker until SIGTERM, then exits 0 leaving no JVM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kafka-cli-test-" });
  const port = freePort();
  try {
    const cli = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${ROOT}deno.json`,
        `${ROOT}dev/kafka/cli.ts`,
        "--port",
        String(port),
        "--data-dir",
        dataDir,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines = cli.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("KAFKA_BROKERS=")) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    const pid = Number(/\(pid (\d+),/.exec(out)?.[1]);
    assert.match(out, new RegExp(`^Kafka is ready at 127\\.0\\.0\\.1:${port} \\(pid \\d+, `));

    cli.kill("SIGTERM");
    while (!(await lines.read()).done) { /* drain */ }
    const status = await cli.status;

    assert.equal(status.code, 0);
    assert.equal(out.split("\n").at(1), `KAFKA_BROKERS=127.0.0.1:${port}`);
    await assert.rejects(Deno.stat(`/proc/${pid}`), Deno.errors.NotFound);
    assert.ok((await Deno.stat(`${dataDir}/data/meta.properties`)).isFile);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
