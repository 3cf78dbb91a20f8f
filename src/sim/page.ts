/**
 * One page of Get Streams over a world: filters, score order and cursor
 * positions. Pure over the world's current state.
 *
 * @module
 */

import { GAMES, LANGUAGES } from "./catalog.ts";
import type { CursorPosition } from "./cursor.ts";
import { generateStream, indexOfLogin, indexOfUserId } from "./data.ts";
import { positionBelow, score, type World } from "./world.ts";

/** A validated Get Streams query. */
export interface StreamsQuery {
  /** Page size, 1..100. */
  first: number;
  /** Continue below this position (from an `after` cursor). */
  after?: CursorPosition;
  /** Continue above this position (from a `before` cursor). */
  before?: CursorPosition;
  language: string[];
  gameId: string[];
  userId: string[];
  userLogin: string[];
}

/**
 * What one of Helix's cache nodes knows: the world as of `snapshot` (milliseconds), where a
 * new stream shows only `onlineLagMs` after it went live. Without a view, the world as it is.
 */
export interface CacheView {
  snapshot: number;
  onlineLagMs: number;
}

/** Whether a cache node with this view lists the stream. */
export function visible(world: World, index: number, view: CacheView): boolean {
  if (world.liveSince[index] + view.onlineLagMs > view.snapshot) return false;
  return world.live[index] === 1 || world.endedAt[index] > view.snapshot;
}

/** A page: stream indices in Helix's order, and where to continue if there is more. */
export interface PageResult {
  indices: number[];
  /** Position for the cursor; absent when nothing is left in the direction of travel. */
  next?: CursorPosition;
}

/** Selects one page of live streams, as the world is now or as a cache node sees it. */
export function selectPage(world: World, query: StreamsQuery, view?: CacheView): PageResult {
  const from = candidatesOf(world, query, view);
  const result = query.before
    ? pageAbove(world, from, query.before.first, query.first)
    : pageBelow(world, from, query.after?.last ?? Infinity, query.first);
  if (result.indices.length === 0 || !result.more) return { indices: result.indices };
  const first = score(world, result.indices[0]);
  const last = score(world, result.indices[result.indices.length - 1]);
  return { indices: result.indices, next: { first, last } };
}

interface Slice {
  indices: number[];
  more: boolean;
}

/** The streams a page is taken from, highest score first: every live one, or a user filter's. */
interface Candidates {
  list: ArrayLike<number>;
  count: number;
  /** Position of the first stream whose score is below `s`. */
  positionBelow(s: number): number;
  /** Ended streams a lagging cache node still lists, highest score first (merged into `list`). */
  ended: readonly number[];
  /** Whether a stream passes the query's filters. */
  matches(index: number): boolean;
}

function candidatesOf(world: World, query: StreamsQuery, view?: CacheView): Candidates {
  const filters = matcher(world, query);
  const matches = view === undefined
    ? filters
    : (index: number) => visible(world, index, view) && filters(index);
  if (query.userId.length === 0 && query.userLogin.length === 0) {
    return {
      list: world.order,
      count: world.liveCount,
      positionBelow: (s) => positionBelow(world, s),
      ended: view === undefined ? [] : world.recentlyEnded,
      matches,
    };
  }
  const list = userCandidates(world, query, view);
  return {
    list,
    count: list.length,
    positionBelow: (s) => positionIn(world, list, s),
    ended: [],
    matches,
  };
}

/** Streams below score `s`, highest first. */
function pageBelow(world: World, from: Candidates, s: number, size: number): Slice {
  const indices: number[] = [];
  const { ended } = from;
  let q = positionIn(world, ended, s);
  for (let p = from.positionBelow(s); p < from.count || q < ended.length;) {
    const index = q < ended.length &&
        (p >= from.count || score(world, ended[q]) > score(world, from.list[p]))
      ? ended[q++]
      : from.list[p++];
    if (!from.matches(index)) continue;
    if (indices.length === size) return { indices, more: true };
    indices.push(index);
  }
  return { indices, more: false };
}

/** The `size` streams just above score `s`, highest first. */
function pageAbove(world: World, from: Candidates, s: number, size: number): Slice {
  // Rare: merge the ended streams in and walk the whole list.
  const list = from.ended.length === 0
    ? from.list
    : pageBelow(world, { ...from, matches: () => true }, Infinity, Infinity).indices;
  const count = from.ended.length === 0 ? from.count : list.length;
  const reversed: number[] = [];
  let p = (from.ended.length === 0 ? from.positionBelow(s) : positionIn(world, list, s)) - 1;
  // Scores equal to `s` belong to the page the cursor came from.
  while (p >= 0 && p < count && score(world, list[p]) <= s) p--;
  for (; p >= 0; p--) {
    const index = list[p];
    if (!from.matches(index)) continue;
    if (reversed.length === size) return { indices: reversed.reverse(), more: true };
    reversed.push(index);
  }
  return { indices: reversed.reverse(), more: false };
}

/** Position of the first entry of a score-sorted list whose score is below `s`. */
function positionIn(world: World, list: ArrayLike<number>, s: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (score(world, list[mid]) >= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The language and category filters as one test. */
function matcher(world: World, query: StreamsQuery): (index: number) => boolean {
  const languages = codesToIndices(query.language, LANGUAGES.map((l) => l.code));
  const games = codesToIndices(query.gameId, GAMES.map((g) => g.id));
  return function matches(index: number): boolean {
    return (languages === null || languages.has(world.language[index])) &&
      (games === null || games.has(world.game[index]));
  };
}

function codesToIndices(values: string[], table: string[]): Set<number> | null {
  if (values.length === 0) return null;
  const wanted = new Set(values);
  const indices = new Set<number>();
  table.forEach((code, i) => {
    if (code !== "" && wanted.has(code)) indices.add(i);
  });
  return indices;
}

/** Live streams of the users asked for (ids and logins together), highest score first. */
function userCandidates(world: World, query: StreamsQuery, view?: CacheView): number[] {
  const seed = world.options.seed;
  const found = new Set<number>();
  // A channel's live stream is its first one, or the one it restarted as; a lagging cache node
  // may still list the broadcast before.
  const liveOf = (owner: number) => {
    let index = world.restartedAs.get(owner) ?? owner;
    if (view === undefined) return world.live[index] === 1 ? index : -1;
    while (index >= 0 && !visible(world, index, view)) index = world.previous[index];
    return index;
  };
  for (const id of query.userId) {
    const owner = indexOfUserId(seed, id);
    if (owner < 0 || owner >= world.size) continue;
    const index = liveOf(owner);
    if (index >= 0) found.add(index);
  }
  for (const login of query.userLogin) {
    const wanted = login.toLowerCase();
    const owner = indexOfLogin(seed, wanted);
    if (owner < 0 || owner >= world.size) continue;
    const index = liveOf(owner);
    if (index < 0) continue;
    if (generateStream(seed, owner, world.generate).user_login === wanted) found.add(index);
  }
  return [...found].sort((a, b) => score(world, b) - score(world, a));
}
