/**
 * Validation of Get Streams query parameters, with Helix's limits.
 *
 * @module
 */

import { decodeCursor } from "./cursor.ts";
import type { StreamsQuery } from "./page.ts";

/** Most values Helix takes for each repeated filter. */
export const MAX_FILTER_VALUES = 100;
const FILTERS = ["user_id", "user_login", "game_id", "language"] as const;

/** Parses the query of `GET /streams`; a string is the message of a 400. */
export function parseStreamsQuery(
  params: URLSearchParams,
  options: { cursorKey: number },
): StreamsQuery | string {
  const firstRaw = params.get("first");
  let first = 20;
  if (firstRaw !== null) {
    if (!/^[0-9]+$/.test(firstRaw)) return malformed("first", "the value must be an integer");
    first = Number(firstRaw);
    if (first < 1) return malformed("first", "the value must be greater than or equal to 1");
    if (first > 100) return malformed("first", "the value must be less than or equal to 100");
  }
  const type = params.get("type");
  if (type !== null && type !== "all" && type !== "live") {
    return malformed("type", 'the value must be one of "all", "live"');
  }
  const values: Record<string, string[]> = {};
  for (const name of FILTERS) {
    values[name] = params.getAll(name).filter((v) => v !== "");
    if (values[name].length > MAX_FILTER_VALUES) {
      return malformed(name, `the value must have at most ${MAX_FILTER_VALUES} items`);
    }
  }
  const afterRaw = params.get("after");
  const beforeRaw = params.get("before");
  if (afterRaw && beforeRaw) return 'Only one of "after" and "before" may be set';
  const after = afterRaw ? decodeCursor(afterRaw, { key: options.cursorKey }) : undefined;
  if (after === null) return malformed("after", "the value is not a valid cursor");
  const before = beforeRaw ? decodeCursor(beforeRaw, { key: options.cursorKey }) : undefined;
  if (before === null) return malformed("before", "the value is not a valid cursor");
  return {
    first,
    after,
    before,
    language: values.language,
    gameId: values.game_id,
    userId: values.user_id,
    userLogin: values.user_login,
  };
}

function malformed(parameter: string, problem: string): string {
  return `The parameter "${parameter}" was malformed: ${problem}`;
}
