import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseKafkaCli } from "./cli.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("the kafka task listens on 9092 and keeps data in .cache/kafka by default", () => {
  assert.deepEqual(parseKafkaCli([], {}), {
    port: 9092,
    dataDir: `${ROOT}.cache/kafka`,
    fresh: false,
    help: false,
  });
});

Deno.test("--port wins over KAFKA_PORT", () => {
  assert.equal(parseKafkaCli(["--port", "19092"], { KAFKA_PORT: "29092" }).port, 19092);
  assert.equal(parseKafkaCli([], { KAFKA_PORT: "29092" }).port, 29092);
});

Deno.test("a port that is not a number from 1 to 65535 is refused in one line", () => {
  assert.throws(() => parseKafkaCli(["--port", "70000"], {}), {
    message: "--port: 70000 is out of range; expected a port from 1 to 65535",
  });
  assert.throws(() => parseKafkaCli([], { KAFKA_PORT: "x" }), {
    message: 'KAFKA_PORT: "x" is not a whole number; expected a port from 1 to 65535',
  });
});
