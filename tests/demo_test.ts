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

Deno.test("deno task demo shows records arriving, serves its status page, and Ctrl-C leaves no process behind", async () => {
  const demo = new Deno.Command(Deno.execPath(), {
    // A still world: every scan writes the same 400 streams, however many a slow machine runs.
    args: ["task", "demo", "--streams", "400", "--churn", "0"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = demo.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const deadline = Date.now() + 120_000;
  try {
    const arrived = /twitch-streams: (\d+) records, 0 tombstones, 400 live keys/;
    while (!arrived.test(output) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      output += value;
    }
    const [, records] = arrived.exec(output) ?? [];
    assert.ok(records, output);
    // A second scan may have begun: it writes the same 400 keys again.
    assert.ok(Number(records) >= 400, `${records} records`);
    // The page it names shows the same live set.
    const url = /status page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
    assert.ok(url, "the demo did not print the status page's URL");
    const page = await fetch(url);
    assert.match(await page.text(), /<title>Twitch data generator: status<\/title>/);
    const status = await (await fetch(new URL("/status.json", url))).json();
    assert.equal(status.live.streams, 400);
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
