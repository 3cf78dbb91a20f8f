/**
 * `deno task screenshot`: runs the demo (a local broker, the service on
 * simulated data) until a few scans have run, and saves a screenshot of the
 * status page, as headless Chromium renders it, to `docs/status-page.png`.
 *
 * Flags: --scans N (scans on the page first, default 3), --streams N
 * (default 20000), --out PATH.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";
import { launchBrowser } from "../tests/support/browser.ts";
import type { StatusDocument } from "../src/ops/status.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const { values } = parseArgs({
  args: Deno.args,
  options: {
    scans: { type: "string", default: "3" },
    streams: { type: "string", default: "20000" },
    out: { type: "string", default: `${ROOT}docs/status-page.png` },
  },
});
const scans = Number(values.scans);

const demo = new Deno.Command(Deno.execPath(), {
  args: ["task", "demo", "--streams", values.streams!, "--churn", "30", "--port", "0"],
  cwd: ROOT,
  stdin: "null",
  stdout: "piped",
  stderr: "null",
}).spawn();
try {
  const url = await pageUrl(demo.stdout);
  console.log(`status page at ${url}; waiting for ${scans} scans...`);
  while (((await status(url))?.service.scans.length ?? 0) < scans) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.waitForFunction(`document.getElementById("generated")?.textContent !== "–"`);
  await Deno.mkdir(new URL(".", `file://${values.out}`), { recursive: true });
  await page.screenshot({ path: values.out! as `${string}.png`, fullPage: true });
  console.log(`wrote ${values.out}`);
} finally {
  demo.kill("SIGINT");
  await demo.status;
}

/** Reads the demo's output until it names the status page's URL. */
async function pageUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  let output = "";
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the demo ended without naming its status page:\n${output}`);
    output += value;
    const match = /status page: (http:\S+)/.exec(output);
    if (match) {
      // Keep draining so that the demo never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return match[1];
    }
  }
}

async function status(url: string): Promise<StatusDocument | null> {
  try {
    return await (await fetch(new URL("/status.json", url))).json();
  } catch {
    return null;
  }
}
