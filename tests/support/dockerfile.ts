/**
 * A small Dockerfile reader for tests: enough structure (stages, base images,
 * instructions) to assert packaging rules without a Docker engine.
 * @module
 */

/** One instruction, with continuation lines joined. */
export interface Instruction {
  /** Upper-case keyword, e.g. `RUN`. */
  keyword: string;
  /** Everything after the keyword, trimmed. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

/** One build stage: a `FROM` and the instructions up to the next `FROM`. */
export interface Stage {
  /** The base as written after `FROM`, with build arguments substituted. */
  base: string;
  /** The `AS` name, if any. */
  name?: string;
  /** The instructions after `FROM`. */
  instructions: Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** `ARG` instructions before the first `FROM`. */
  globalArgs: Instruction[];
  /** Build stages in order; the last one is the image. */
  stages: Stage[];
}

/** A base image reference split into its parts. */
export interface ImageRef {
  /** Registry and repository, e.g. `gcr.io/distroless/cc-debian12`. */
  repository: string;
  /** Tag after `:`, if any. */
  tag?: string;
  /** Digest after `@`, e.g. `sha256:…`, if any. */
  digest?: string;
}

/** Parses Dockerfile text into global `ARG`s and stages. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions = splitInstructions(text);
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      stages.push(parseFrom(instruction, argDefaults(globalArgs)));
    } else if (stages.length === 0) {
      if (instruction.keyword !== "ARG") {
        throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      }
      globalArgs.push(instruction);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** Splits an image reference such as `name:tag@sha256:…` into its parts. */
export function parseImageRef(ref: string): ImageRef {
  const [nameAndTag, digest] = ref.split("@", 2);
  // A colon after the last slash is a tag; before it, a registry port.
  const lastSlash = nameAndTag.lastIndexOf("/");
  const colon = nameAndTag.indexOf(":", lastSlash + 1);
  const repository = colon === -1 ? nameAndTag : nameAndTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameAndTag.slice(colon + 1);
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** True when a reference names a fixed image: a digest, or a tag other than `latest`. */
export function isPinnedImage(ref: string): boolean {
  const { tag, digest } = parseImageRef(ref);
  if (digest !== undefined) return /^sha256:[0-9a-f]{64}$/.test(digest);
  return tag !== undefined && tag !== "latest";
}

/** Returns the argument list of an exec-form (`["a", "b"]`) instruction, or undefined. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
    throw new Error(`not a JSON string array: ${args}`);
  }
  return parsed;
}

/** Returns the command of a `HEALTHCHECK` instruction's args, or undefined for `NONE`. */
export function healthcheckCommand(args: string): string[] | string | undefined {
  const rest = args.replace(/^(--[a-z-]+=\S+\s+)*/, "");
  if (/^NONE$/i.test(rest)) return undefined;
  const match = /^CMD\s+(.*)$/is.exec(rest);
  if (!match) throw new Error(`HEALTHCHECK without CMD or NONE: ${args}`);
  return execForm(match[1]) ?? match[1];
}

/** Returns the variable names that an `ENV` or `ARG` instruction sets. */
export function declaredNames(instruction: Instruction): string[] {
  if (instruction.keyword === "ARG") return [instruction.args.split("=", 1)[0].trim()];
  if (instruction.keyword !== "ENV") return [];
  // Legacy form `ENV KEY value with spaces` sets one variable.
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(instruction.args)) {
    return [instruction.args.split(/\s+/, 1)[0]];
  }
  const names: string[] = [];
  const pair = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|(?:[^\s\\]|\\.)*)/g;
  for (const match of instruction.args.matchAll(pair)) names.push(match[1]);
  return names;
}

function splitInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const trimmed = raw.trim();
    // Docker drops comment and blank lines, even inside a continued instruction.
    if (trimmed.startsWith("#") || trimmed === "") continue;
    const continued = trimmed.endsWith("\\");
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending
      ? { text: `${pending.text} ${part}`.trim(), line: pending.line }
      : { text: part, line: index + 1 };
    if (!continued) {
      instructions.push(toInstruction(pending.text, pending.line));
      pending = undefined;
    }
  }
  if (pending) instructions.push(toInstruction(pending.text, pending.line));
  return instructions;
}

function toInstruction(text: string, line: number): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(text);
  if (!match) throw new Error(`line ${line}: empty instruction`);
  return { keyword: match[1].toUpperCase(), args: match[2].trim(), line };
}

function parseFrom(instruction: Instruction, args: Map<string, string>): Stage {
  const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith("--"));
  const base = words[0].replace(
    /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
    (whole, name: string) => args.get(name) ?? whole,
  );
  const name = words.length >= 3 && words[1].toUpperCase() === "AS" ? words[2] : undefined;
  return { base, ...(name ? { name } : {}), instructions: [] };
}

function argDefaults(globalArgs: Instruction[]): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const arg of globalArgs) {
    const [name, ...value] = arg.args.split("=");
    if (value.length > 0) defaults.set(name.trim(), value.join("=").replace(/^"(.*)"$/, "$1"));
  }
  return defaults;
}
