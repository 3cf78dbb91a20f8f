/**
 * Pagination cursors. Like Twitch's, a cursor holds sort scores, not
 * offsets: `after` continues below the last stream of a page and `before`
 * above its first, so streams whose viewer counts move while a client pages
 * are seen twice or not at all, as on Twitch. Clients must treat cursors as
 * opaque; a checksum turns tampered or foreign strings into a 400.
 *
 * @module
 */

import { hash32 } from "./prng.ts";

/** Where a page sits in the score order. */
export interface CursorPosition {
  /** Score of the page's first stream: `before` continues above it. */
  first: number;
  /** Score of the page's last stream: `after` continues below it. */
  last: number;
}

interface CursorBody {
  b: number;
  a: number;
  n: number;
  k: number;
}

/** Encodes a position; `nonce` makes equal positions give different strings, `key` signs it. */
export function encodeCursor(
  position: CursorPosition,
  options: { key: number; nonce: number },
): string {
  const body: CursorBody = {
    b: position.first,
    a: position.last,
    n: options.nonce >>> 0,
    k: checksum(position.first, position.last, options.nonce >>> 0, options.key),
  };
  return btoa(JSON.stringify(body)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes a cursor made by {@link encodeCursor} with the same key, or returns null. */
export function decodeCursor(text: string, options: { key: number }): CursorPosition | null {
  if (text.length === 0 || text.length > 512 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let body: unknown;
  try {
    body = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    return null;
  }
  if (!isCursorBody(body)) return null;
  if (body.k !== checksum(body.b, body.a, body.n, options.key)) return null;
  return { first: body.b, last: body.a };
}

function isCursorBody(value: unknown): value is CursorBody {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return ["b", "a", "n", "k"].every((f) => typeof v[f] === "number" && Number.isFinite(v[f]));
}

function checksum(first: number, last: number, nonce: number, key: number): number {
  const f = new Float64Array([first, last]);
  const words = new Uint32Array(f.buffer);
  return hash32(key, nonce, words[0], words[1], words[2], words[3]);
}
