/**
 * The `--help` texts, generated from the settings table so the two cannot drift.
 *
 * @module
 */

import { type Setting, SETTING_NAMES, type SettingName, SETTINGS } from "./settings.ts";

/** The `--help` text of the service. */
export function usage(): string {
  return [
    "twitch-datagen: every live Twitch stream as keyed records in a Kafka topic",
    "",
    "Usage: twitch-datagen [flags]",
    "",
    "Flags:",
    "  --once             one scan, then exit (0 when every record is acknowledged)",
    "  --dry-run          print the records as JSON lines on stdout instead of producing them",
    "  --audit            with --once or --dry-run: page unsplit, finding streams of unlisted languages",
    "  --env-file PATH    read settings from PATH (default: .env in the working directory, if present)",
    "  --healthcheck      probe /healthz of the running instance and exit 0 or 1",
    "  --help, --version",
    "  --<setting> VALUE  any setting below, e.g. --kafka-brokers host:9092 (flags win over the environment)",
    "",
    "Settings (environment variables, also read from .env):",
    ...settingLines(SETTING_NAMES),
  ].join("\n");
}

/**
 * One line per setting: its name, meaning and default. `defaults` replaces
 * the table's default where a command differs (`deno task sim`'s port).
 */
export function settingLines(
  names: readonly SettingName[],
  defaults: Partial<Record<SettingName, string>> = {},
): string[] {
  const width = Math.max(...names.map((name) => name.length));
  return names.map((name) => {
    const entry: Setting = SETTINGS[name];
    const shown = defaults[name] ?? entry.defaultText ?? entry.default;
    return `  ${name.padEnd(width)}  ${entry.description}${shown ? ` (default: ${shown})` : ""}`;
  });
}
