/**
 * The command line: the mode flags, and every setting as a flag named after
 * its variable.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError } from "./errors.ts";
import { SETTING_NAMES } from "./settings.ts";

/** Command-line flags that are not settings. */
export interface Flags {
  once: boolean;
  dryRun: boolean;
  /** `--audit`: the one scan of `--once` or `--dry-run` pages unsplit. */
  audit: boolean;
  help: boolean;
  version: boolean;
  healthcheck: boolean;
  envFile?: string;
  /** Settings given as flags (`--kafka-brokers x` sets KAFKA_BROKERS), by variable name. */
  overrides: Record<string, string>;
}

function flagName(variable: string): string {
  return variable.toLowerCase().replaceAll("_", "-");
}

/**
 * Parses the command line. Every setting may also be given as a flag named
 * after its variable (`--kafka-brokers`, `--schedule`, ...).
 */
export function parseFlags(args: string[]): Flags {
  const options: Record<string, { type: "string" | "boolean" }> = {
    "once": { type: "boolean" },
    "dry-run": { type: "boolean" },
    "audit": { type: "boolean" },
    "help": { type: "boolean" },
    "version": { type: "boolean" },
    "healthcheck": { type: "boolean" },
    "env-file": { type: "string" },
  };
  for (const name of SETTING_NAMES) options[flagName(name)] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    // parseArgs quotes what it did not understand; a stray word may be a pasted secret.
    const text = error instanceof Error ? error.message.split("\n")[0] : String(error);
    const problem = /^Unexpected argument/.test(text)
      ? "unexpected argument (settings are given as --name value)"
      : text;
    throw new ConfigError("command line", `${problem}; run with --help to see the flags`);
  }
  const overrides: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = values[flagName(name)];
    if (typeof value === "string") overrides[name] = value;
  }
  return {
    once: values["once"] === true,
    dryRun: values["dry-run"] === true,
    audit: values["audit"] === true,
    help: values["help"] === true,
    version: values["version"] === true,
    healthcheck: values["healthcheck"] === true,
    envFile: values["env-file"] as string | undefined,
    overrides,
  };
}
