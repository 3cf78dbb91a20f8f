/**
 * Which streams the configuration selects. The topic holds exactly those:
 * a stream that leaves the selection (a narrowed filter, a change of
 * category, a fall below the MAX_STREAMS cut) gets a tombstone. Pure.
 *
 * @module
 */

import type { LiveStream } from "./record.ts";

/** The filters that select streams by their fields (an empty list selects all). */
export interface Selection {
  languages: readonly string[];
  gameIds: readonly string[];
  userLogins: readonly string[];
}

/** Whether the filters select the stream. Logins compare case-insensitively, as Helix does. */
export function selects(selection: Selection, stream: LiveStream): boolean {
  if (selection.languages.length > 0 && !selection.languages.includes(stream.language)) {
    return false;
  }
  if (selection.gameIds.length > 0 && !selection.gameIds.includes(stream.gameId)) return false;
  if (
    selection.userLogins.length > 0 &&
    !selection.userLogins.includes(stream.userLogin.toLowerCase())
  ) {
    return false;
  }
  return true;
}
