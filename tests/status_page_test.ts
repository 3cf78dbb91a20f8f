/**
 * The status page in a real headless browser (Chromium), against the
 * service as a process on simulated data and a real broker: the page shows
 * what `/status.json` says, both equal the simulator's ground truth, hostile
 * titles stay text, and a stopped broker shows within a probe interval.
 */

import assert from "node:assert/strict";
import type { Page } from "npm:puppeteer-core@^24.0.0";
import { uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { NO_SCHEDULED_SCANS, startService } from "./support/service.ts";
import { launchBrowser } from "./support/browser.ts";
import { freePort } from "../dev/ports.ts";
import { startSimulator } from "../src/sim/mod.ts";
import type { HelixStream } from "../src/helix/stream.ts";
import type { StatusDocument } from "../src/ops/status.ts";
import { cut } from "../src/ops/status_live.ts";

const PAGE_TITLE = "Twitch data generator: status";
/** The service probes the broker this often (src/service.ts). */
const PROBE_INTERVAL_MS = 10_000;

function isScanEnd(line: Record<string, unknown>): boolean {
  return String(line.message).startsWith("Scan ");
}

async function statusJson(port: number): Promise<StatusDocument> {
  const response = await fetch(`http://127.0.0.1:${port}/status.json`);
  assert.equal(response.status, 200);
  return await response.json();
}

/** The text of each cell of each row of a table body, as the browser shows it. */
function tableText(page: Page, id: string): Promise<string[][]> {
  return page.$$eval(
    `#${id} tr`,
    (rows) => rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent ?? "")),
  );
}

/** Waits until the page's element `id` shows `text`; resolves to the milliseconds it took. */
async function waitForText(page: Page, id: string, text: string, timeoutMs: number) {
  const started = performance.now();
  await page.waitForFunction(
    `document.getElementById(${JSON.stringify(id)})?.textContent === ${JSON.stringify(text)}`,
    { timeout: timeoutMs, polling: 100 },
  );
  return Math.round(performance.now() - started);
}

/** The top games by viewers as the status page ranks them: ties go to the lower game id. */
function topGames(streams: readonly HelixStream[], n: number) {
  const games = new Map<string, { id: string; name: string; viewers: number; streams: number }>();
  for (const s of streams) {
    const game = games.get(s.game_id) ??
      { id: s.game_id, name: s.game_name, viewers: 0, streams: 0 };
    game.viewers += s.viewer_count;
    game.streams++;
    games.set(s.game_id, game);
  }
  return [...games.values()]
    .sort((a, b) => b.viewers - a.viewers || (a.id < b.id ? -1 : 1))
    .slice(0, n);
}

const format = (n: number) => new Intl.NumberFormat("en").format(n);

Deno.test("the page's live count and top games equal /status.json, and both equal the simulator's truth after a scan", async () => {
  const seed = 11;
  const streams = 600;
  await using truth = await startSimulator({ streams, seed });
  const live = truth.liveStreams();
  await using broker = await useTestBroker();
  const port = freePort();
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: String(streams),
    SIM_SEED: String(seed),
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: uniqueTopic("status-page"),
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    SCHEDULE: NO_SCHEDULED_SCANS,
  });
  assert.match(String((await service.waitForLog(isScanEnd)).message), /^Scan ok/);

  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForText(page, "live-count", format(live.length), 20_000);

  const status = await statusJson(port);
  const expected = topGames(live, 10);
  assert.equal(status.live.streams, live.length);
  assert.equal(status.live.viewers, live.reduce((sum, s) => sum + s.viewer_count, 0));
  assert.deepEqual(status.live.topGamesByViewers, expected);
  assert.equal(await page.$eval("#live-count", (e) => e.textContent), format(status.live.streams));
  assert.equal(
    await page.$eval("#live-viewers", (e) => e.textContent),
    format(status.live.viewers),
  );
  assert.deepEqual(
    await tableText(page, "games-viewers"),
    expected.map((g) => [g.name || "(no category)", format(g.viewers), format(g.streams)]),
  );
  assert.deepEqual(
    (await tableText(page, "top-streams")).map((row) => row[1]),
    live.slice(0, 10).map((s) => s.user_name),
  );
  assert.equal(await page.$eval("#kafka", (e) => e.textContent), "reachable");
  assert.equal(await page.$eval("#ready", (e) => e.textContent), "yes");
  assert.equal((await tableText(page, "scans")).length, 1);
});

Deno.test("hostile titles show as the characters they are: no script runs and the markup is text", async () => {
  // With this seed, the ten biggest streams include a script tag, an svg onload and a very long title.
  const seed = 7;
  const streams = 120;
  await using truth = await startSimulator({ streams, seed, hostileTitles: true });
  const top = truth.liveStreams().slice(0, 10);
  const expectedTitles = top.map((s) => cut(s.title));
  assert.ok(expectedTitles.some((t) => t.startsWith("<script>")));
  assert.ok(expectedTitles.some((t) => t.includes("<svg onload=")));
  await using broker = await useTestBroker();
  const port = freePort();
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: String(streams),
    SIM_SEED: String(seed),
    SIM_HOSTILE_TITLES: "1",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: uniqueTopic("status-hostile"),
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    SCHEDULE: NO_SCHEDULED_SCANS,
  });
  assert.match(String((await service.waitForLog(isScanEnd)).message), /^Scan ok/);

  await using browser = await launchBrowser();
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const blocked: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForText(page, "live-count", format(streams), 20_000);
  // Two more refreshes: whatever a title could start would have had its chance.
  await new Promise((resolve) => setTimeout(resolve, 4500));

  assert.deepEqual((await tableText(page, "top-streams")).map((row) => row[2]), expectedTitles);
  assert.deepEqual((await statusJson(port)).live.topStreams.map((s) => s.title), expectedTitles);
  assert.equal(await page.title(), PAGE_TITLE);
  assert.deepEqual(dialogs, []);
  // The markup of the titles made no elements: only the page's own script and heading exist.
  assert.equal(await page.$$eval("script", (s) => s.length), 1);
  assert.equal(await page.$$eval("svg, img, #top-streams h1", (e) => e.length), 0);
  assert.equal(await page.$$eval("h1", (e) => e.length), 1);
  // The escaped form is what the page's HTML holds.
  const cells = await page.$$eval("#top-streams td", (tds) => tds.map((td) => td.innerHTML));
  assert.ok(
    cells.some((html) => html.startsWith("&lt;script&gt;document.title=")),
    "no escaped script tag",
  );
  assert.deepEqual(blocked, [], "the policy had to block something the page did");
});

Deno.test("with the broker stopped, the page says Kafka is unreachable within a probe interval", async () => {
  await using broker = await useTestBroker({ own: true });
  const port = freePort();
  await using service = startService([], {
    SOURCE: "simulated",
    SIM_STREAMS: "200",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: uniqueTopic("status-kafka"),
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
    SCHEDULE: NO_SCHEDULED_SCANS,
  });
  assert.match(String((await service.waitForLog(isScanEnd)).message), /^Scan ok/);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForText(page, "kafka", "reachable", 20_000);

  await broker.local!.kill();
  // Generous for a loaded machine: the probe fails fast, and the page polls every 2 s.
  const ms = await waitForText(page, "kafka", "unreachable", 3 * PROBE_INTERVAL_MS);
  console.log(`the page said Kafka is unreachable ${ms} ms after the broker was killed`);
  assert.equal(await page.$eval("#kafka-error", (e) => e.hasAttribute("hidden")), false);
  assert.match(await page.$eval("#kafka-error", (e) => e.textContent ?? ""), /^Kafka's last error/);
  assert.equal(await page.$eval("#ready", (e) => e.textContent), "no");
  assert.match(
    await page.$eval("#readiness", (e) => e.textContent ?? ""),
    /Kafka broker unreachable/,
  );
  assert.equal((await statusJson(port)).service.kafka.reachable, false);
});
