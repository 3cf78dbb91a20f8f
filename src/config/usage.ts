/**
 * The `--help` text, generated from the settings table so the two cannot drift.
 *
 * @module
 */

import { SETTINGS } from "./settings.ts";

/** The `--help` text. */
export function usage(): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  const settings = SETTINGS.map((s) =>
    `  ${s.name.padEnd(width)}  ${s.description}${s.default ? ` (default: ${s.default})` : ""}`
  );
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
    ...settings,
  ].join("\n");
}
