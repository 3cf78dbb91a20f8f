/**
 * A real headless browser for tests: the system's Chromium (Debian's
 * `chromium` package), driven by puppeteer-core. No browser is downloaded:
 * `CHROMIUM` names another binary.
 *
 * @module
 */

import puppeteer, { type Browser } from "npm:puppeteer-core@^24.0.0";

/** The Chromium binary: `CHROMIUM`, or Debian's. */
export function chromiumPath(): string {
  return Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
}

/** Starts headless Chromium; closing it (`await using`) ends the browser process. */
export async function launchBrowser(): Promise<Browser & AsyncDisposable> {
  const path = chromiumPath();
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(
      `Chromium is needed at ${path} for the browser tests; install it (apt-get install chromium) or set CHROMIUM`,
    );
  }
  const browser = await puppeteer.launch({
    executablePath: path,
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  return Object.assign(browser, {
    async [Symbol.asyncDispose]() {
      await browser.close();
    },
  });
}
