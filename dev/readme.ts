/**
 * `deno task docs`: writes the README's configuration tables from the
 * settings table, so the README cannot drift from what the service reads.
 * `--check` only reports (exit 1) when the README is out of date.
 *
 * @module
 */

import { type Setting, SETTINGS, settingsOf } from "../src/config/settings.ts";

const README = new URL("../README.md", import.meta.url);

/** The markers around a generated table: `<!-- settings:GROUP -->` ... `<!-- /settings -->`. */
const TABLE = /(<!-- settings:(service|sim) -->\n)[\s\S]*?(<!-- \/settings -->)/g;

/** The README with every marked settings table regenerated. */
export function renderReadme(readme: string): string {
  return readme.replace(
    TABLE,
    (_match, open: string, group: "service" | "sim", close: string) =>
      `${open}\n${settingsTable(group)}\n\n${close}`,
  );
}

/** One group's settings as a Markdown table, laid out as `deno fmt` lays it out. */
export function settingsTable(group: "service" | "sim"): string {
  const rows = settingsOf(group).map((name) => {
    const entry: Setting = SETTINGS[name];
    const shown = entry.defaultText ?? entry.default;
    return [`\`${name}\``, shown ? `\`${shown}\`` : "", entry.description];
  });
  const header = ["Variable", "Default", "Meaning"];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

if (import.meta.main) {
  const readme = await Deno.readTextFile(README);
  const rendered = renderReadme(readme);
  if (Deno.args.includes("--check")) {
    if (rendered !== readme) {
      console.error("README.md: the settings tables are out of date; run deno task docs");
      Deno.exit(1);
    }
  } else if (rendered !== readme) {
    await Deno.writeTextFile(README, rendered);
    console.log("README.md: settings tables updated");
  }
}
