import assert from "node:assert/strict";
import { settingLines, usage } from "./usage.ts";
import { type Setting, SETTING_NAMES, SETTINGS, settingsOf } from "./settings.ts";

Deno.test("--help has one line per setting with its meaning and default", () => {
  const text = usage();
  for (const name of SETTING_NAMES) {
    const entry: Setting = SETTINGS[name];
    const line = text.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
    assert.ok(line, name);
    assert.ok(line.includes(entry.description), name);
    const shown = entry.defaultText ?? entry.default;
    if (shown) assert.ok(line.endsWith(`(default: ${shown})`), line);
  }
});

Deno.test("deno task sim --help lists the SIM_ settings with the command's own port", () => {
  const lines = settingLines(settingsOf("sim"), { SIM_PORT: "8090" });
  assert.equal(lines.length, 21);
  assert.equal(
    lines.find((l) => l.includes("SIM_PORT")),
    "  SIM_PORT                port of the simulator on localhost; 0 = any free port (default: 8090)",
  );
  assert.equal(
    lines.find((l) => l.includes("SIM_FAIL_AFTER")),
    "  SIM_FAIL_AFTER          good simulated pages before every page answers 503 (default: unset (never))",
  );
});
