import assert from "node:assert/strict";
import { renderReadme, settingsTable } from "./readme.ts";
import { SETTING_NAMES, settingsOf } from "../src/config/settings.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("the README's settings tables are the ones the settings table gives (deno task docs)", () => {
  assert.equal(renderReadme(readme), readme);
});

Deno.test("every setting has a row in one of the README's tables", () => {
  const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1]);
  assert.deepEqual(SETTING_NAMES.filter((name) => !rows.includes(name)), []);
});

Deno.test("a README whose table lacks a setting is rewritten with it", () => {
  const stale = readme.replace(/^\| `SIM_TOKEN_TTL` .*\n/m, "");
  assert.notEqual(stale, readme);
  assert.equal(renderReadme(stale), readme);
});

Deno.test("the simulator's table lists exactly the SIM_ settings, in the table's order", () => {
  const names = [...settingsTable("sim").matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]);
  assert.deepEqual(names, settingsOf("sim"));
  assert.ok(names.every((name) => name.startsWith("SIM_")));
  assert.ok(settingsOf("service").every((name) => !name.startsWith("SIM_")));
});
