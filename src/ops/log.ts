/**
 * Logging, configured once at start-up: LogTape with one sink on stderr
 * (stdout belongs to `--dry-run`'s records), JSON lines for machines or
 * colored text for people, categories under `datagen`.
 *
 * @module
 */

import process from "node:process";
import type { LogFormat, LogLevel } from "../config/settings.ts";
import {
  configure,
  getAnsiColorFormatter,
  getJsonLinesFormatter,
  getLogger,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";

/** Log settings. */
export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
}

/** Where log lines go; stderr unless a test passes another writer. */
export type LineWriter = (text: string) => void;

function writeStderr(text: string) {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** A synchronous sink: a line is on stderr before the next statement runs, even right before exit. */
export function lineSink(formatter: TextFormatter, write: LineWriter = writeStderr): Sink {
  return (record: LogRecord) => write(formatter(record));
}

/** Configures LogTape for the service. */
export async function setupLogging(options: LogOptions, write?: LineWriter): Promise<void> {
  const formatter = options.format === "json"
    ? getJsonLinesFormatter({ categorySeparator: ".", message: "rendered", properties: "flatten" })
    : getAnsiColorFormatter({ timestamp: "time", category: "." });
  await configure({
    reset: true,
    sinks: { main: lineSink(formatter, write) },
    loggers: [
      { category: ["datagen"], lowestLevel: options.level, sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}

/**
 * Sends the runtime's process warnings to the log instead of raw stderr
 * lines. (kafkajs's idle timer loop, which used to warn about a negative
 * timeout on every connection, is patched out: see `kafkajs_patch.ts`.)
 */
export function logProcessWarnings(): void {
  const log = getLogger(["datagen", "runtime"]);
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error) => {
    log.warn("{name}: {message}", { name: warning.name, message: warning.message });
  });
}
