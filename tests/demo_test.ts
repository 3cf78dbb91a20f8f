import assert from "node:assert/strict";
import { ROOT } from "./support/service.ts";

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test("deno task demo shows records arriving and Ctrl-C leaves no process behind", async () => {
  const demo = new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--streams", "400"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = demo.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const deadline = Date.now() + 120_000;
  try {
    while (!/twitch-streams: 400 records/.test(output) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      output += value;
    }
    assert.match(output, /twitch-streams: 400 records, 0 tombstones, 400 live keys/);
  } finally {
    demo.kill("SIGINT");
  }
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
  }
  const status = await demo.status;
  assert.equal(status.code, 0, output);
  const [, broker, service] = /processes: broker (\d+), service (\d+)/.exec(output)!.map(Number);
  assert.equal(alive(broker), false, "the broker is still running");
  assert.equal(alive(service), false, "the service is still running");
  assert.match(output, /\[demo\] stopped/);
});
