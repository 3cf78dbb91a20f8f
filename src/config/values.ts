/**
 * Parsers for single configuration values. Each takes the raw string and the
 * name of the setting, and throws a {@link ConfigError} that names the
 * setting, the problem and the expected form.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";

/**
 * Parses a whole number within `[min, max]`. `form` describes the expected
 * value in errors (default: "an integer from min to max").
 */
export function parseInteger(
  name: string,
  raw: string,
  range: { min: number; max: number; form?: string },
): number {
  const text = raw.trim();
  const value = Number(text);
  const form = range.form ?? `an integer from ${range.min} to ${range.max}`;
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new ConfigError(name, `"${raw}" is not a whole number; expected ${form}`);
  }
  if (value < range.min || value > range.max) {
    throw new ConfigError(name, `${value} is out of range; expected ${form}`);
  }
  return value;
}

/** Parses a decimal number within `[min, max]`; `form` describes the expected value in errors. */
export function parseNumber(
  name: string,
  raw: string,
  range: { min: number; max: number; form: string },
): number {
  const text = raw.trim();
  const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) {
    throw new ConfigError(name, `"${raw}" is not a number; expected ${range.form}`);
  }
  if (value < range.min || value > range.max) {
    throw new ConfigError(name, `${text} is out of range; expected ${range.form}`);
  }
  return value;
}

/** Parses one of a fixed set of words (case-insensitive). */
export function parseChoice<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  const value = raw.trim().toLowerCase();
  const found = choices.find((c) => c === value);
  if (found === undefined) {
    throw new ConfigError(name, `"${raw}" is not allowed; expected one of ${choices.join(", ")}`);
  }
  return found;
}

/** Parses a duration such as `90s`, `60m` or `2h` into milliseconds; `0` alone is zero. */
export function parseDuration(name: string, raw: string, range: { minMs: number }): number {
  const text = raw.trim().toLowerCase();
  if (text === "0") return 0;
  const match = /^(\d{1,7})(s|m|h)$/.exec(text);
  const form = "a whole number with s, m or h, such as 60m, or 0";
  if (!match) throw new ConfigError(name, `"${raw}" is not a duration; expected ${form}`);
  const ms = Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as "s" | "m" | "h"];
  if (ms < range.minMs) {
    throw new ConfigError(
      name,
      `${text} is too short; expected at least ${range.minMs / 1000}s, or 0`,
    );
  }
  return ms;
}

/** Parses `true`/`false` (also `1`/`0`, `yes`/`no`). */
export function parseBoolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(value)) return true;
  if (["false", "0", "no"].includes(value)) return false;
  throw new ConfigError(name, `"${raw}" is not a boolean; expected true or false`);
}

/**
 * Parses a comma-separated list, dropping empty items and repeats, checking
 * each item against `pattern` and the count against `max`.
 */
export function parseList(
  name: string,
  raw: string,
  options: { pattern: RegExp; form: string; max: number; lowerCase?: boolean },
): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) =>
    options.lowerCase ? s.toLowerCase() : s
  );
  if (items.length === 0) {
    throw new ConfigError(name, `is empty; expected a comma-separated list of ${options.form}`);
  }
  for (const item of items) {
    if (!options.pattern.test(item)) {
      throw new ConfigError(name, `"${item}" is not valid; expected ${options.form}`);
    }
  }
  const unique = [...new Set(items)];
  if (unique.length > options.max) {
    throw new ConfigError(
      name,
      `has ${unique.length} values; Helix accepts at most ${options.max} per query`,
    );
  }
  return unique;
}

/** Parses `host:port[,host:port...]` broker addresses. */
export function parseBrokers(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) {
    throw new ConfigError(name, `is empty; expected host:port[,host:port...], e.g. localhost:9092`);
  }
  for (const item of items) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(
        name,
        `"${item}" is not a broker address; expected host:port[,host:port...], e.g. localhost:9092`,
      );
    }
  }
  return items;
}

/** Parses a Kafka topic name (Kafka's own rules: 1-249 of [a-zA-Z0-9._-], not "." or ".."). */
export function parseTopic(name: string, raw: string): string {
  const topic = raw.trim();
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic) || topic === "." || topic === "..") {
    throw new ConfigError(
      name,
      `"${raw}" is not a valid topic name; expected 1-249 characters of letters, digits, ".", "_" or "-"`,
    );
  }
  return topic;
}

/** Parses a non-empty value without spaces (ids, secrets, names). */
export function parseToken(name: string, raw: string, form: string): string {
  const value = raw.trim();
  if (value === "" || /\s/.test(value)) {
    throw new ConfigError(name, `is empty or contains spaces; expected ${form}`);
  }
  return value;
}

/** A parser of a value, as the settings table holds it: the setting's name and its raw text in. */
export type ValueParser<T> = (name: string, raw: string) => T;

/** {@link parseInteger} within `[min, max]`, as a value parser. */
export function integer(min: number, max: number, form?: string): ValueParser<number> {
  return (name, raw) => parseInteger(name, raw, { min, max, form });
}

/** {@link parseNumber} within `[min, max]`, as a value parser. */
export function number(min: number, max: number, form: string): ValueParser<number> {
  return (name, raw) => parseNumber(name, raw, { min, max, form });
}

/** {@link parseToken}, as a value parser. */
export function token(form: string): ValueParser<string> {
  return (name, raw) => parseToken(name, raw, form);
}

/** {@link parseChoice} among `choices`, as a value parser. */
export function choice<T extends string>(choices: readonly T[]): ValueParser<T> {
  return (name, raw) => parseChoice(name, raw, choices);
}

/** Any text, as given (file paths, user names, the cron expression parsed later). */
export function text(_name: string, raw: string): string {
  return raw;
}

/** A `ws://` or `wss://` URL. */
export function webSocketUrl(name: string, raw: string): string {
  const url = raw.trim();
  if (!/^wss?:\/\/[^\s/]+/.test(url)) {
    throw new ConfigError(
      name,
      `"${url}" is not a WebSocket URL; give one such as wss://eventsub.wss.twitch.tv/ws`,
    );
  }
  return url;
}
