/**
 * Simulated streams. Stream `i` is a pure function of (seed, i, reference
 * time), so the streams of a smaller world are exactly the first streams of
 * a larger one with the same seed.
 *
 * @module
 */

import { type HelixStream, MAX_BROADCAST_MS } from "../helix/stream.ts";
import { COMMON_TAGS, GAMES, LANGUAGES, UNLISTED_LANGUAGE_COUNT } from "./catalog.ts";
import { cumulativeWeights, hash32, pickWeighted, Prng } from "./prng.ts";
import { hostileTitle } from "./hostile.ts";
import {
  LOCAL_DISPLAY_NAMES,
  NAME_HEADS,
  NAME_TAILS,
  TITLES,
  UNCATEGORIZED_TITLES,
} from "./words.ts";

/** How to generate streams. */
export interface GenerateOptions {
  /** The moment `started_at` values are counted back from, in milliseconds since the epoch. */
  now: number;
  /** The first this many streams started more than 48 hours before `now` (stale cache entries). */
  expiredStreams?: number;
  /** The this many streams after the expired ones carry a language code outside the usual list. */
  unlistedStreams?: number;
  /** Every fourth stream gets a hostile title (markup, direction overrides, emoji, length). */
  hostileTitles?: boolean;
}

const HOUR_MS = 3_600_000;

/** Largest viewer count drawn; the biggest channels peak around there. */
const MAX_VIEWERS = 350_000;
/** Tail exponent of viewer counts: about 87% of streams get fewer than 10 viewers. */
const VIEWER_ALPHA = 0.9;

const LANGUAGE_CDF = cumulativeWeights(LANGUAGES.map((l) => l.weight));
const GAME_CDF = cumulativeWeights(GAMES.map((g) => g.weight));

/** Stream ids grow with the index, as Twitch's grow with time. */
const STREAM_ID_BASE = 310_000_000_000;
/** user_id = base + (a * i + b) mod m: distinct for every index below m. */
const USER_ID_BASE = 20_000_000;
const USER_ID_MOD = 900_000_000;
const USER_ID_MUL = 15_485_863;
/** The number in a login: also a permutation, so logins are distinct too. */
const LOGIN_MOD = 100_000_000;
const LOGIN_MUL = 7_919;
const USER_ID_MUL_INVERSE = modularInverse(USER_ID_MUL, USER_ID_MOD);
const LOGIN_MUL_INVERSE = modularInverse(LOGIN_MUL, LOGIN_MOD);

/** Keeps draws below MAX_VIEWERS without piling them up at the cap (a truncated Pareto law). */
const VIEWER_TAIL = 1 - Math.pow(MAX_VIEWERS + 1, -VIEWER_ALPHA);

/** Maps a uniform number in [0, 1) to a heavy-tailed viewer count: mostly 0-10, a few 10^4-10^5. */
export function drawViewers(u: number): number {
  return Math.floor(Math.pow(1 - u * VIEWER_TAIL, -1 / VIEWER_ALPHA)) - 1;
}

/** The tie-breaking fraction of a stream's sort score: distinct per index, in (0, 1). */
export function scoreFraction(seed: number, index: number): number {
  return (hash32(seed, index, 0x5c0e) + 0.5) / 4294967296;
}

/** What the world must know of every stream to sort and filter it, without generating it whole. */
export interface StreamFacets {
  viewers: number;
  /** Index into LANGUAGES. */
  language: number;
  /** Index into GAMES. */
  game: number;
  /** `started_at` in milliseconds (whole seconds). */
  startedAt: number;
}

/** The first draws of stream `index`: the same values {@link generateStream} gives it. */
export function streamFacets(seed: number, index: number, options: GenerateOptions): StreamFacets {
  return drawFacets(new Prng(hash32(seed, index)), index, options);
}

// Draw order is part of the data format: changing it changes every world.
function drawFacets(rng: Prng, index: number, options: GenerateOptions): StreamFacets {
  const viewers = drawViewers(rng.next());
  let language = pickWeighted(LANGUAGE_CDF, rng.next());
  const unlisted = index - (options.expiredStreams ?? 0);
  if (unlisted >= 0 && unlisted < (options.unlistedStreams ?? 0)) {
    language = LANGUAGES.length - UNLISTED_LANGUAGE_COUNT + unlisted % UNLISTED_LANGUAGE_COUNT;
  }
  const game = pickWeighted(GAME_CDF, rng.next());
  const ageMs = index < (options.expiredStreams ?? 0)
    ? MAX_BROADCAST_MS + rng.int(60, 24 * 3600) * 1000
    : drawAge(rng);
  const startedAt = Math.floor((options.now - ageMs) / 1000) * 1000;
  return { viewers, language, game, startedAt };
}

/** The index whose stream has this `user_id` with this seed, or -1 (the stream may not exist yet). */
export function indexOfUserId(seed: number, userId: string): number {
  if (!/^[0-9]{1,12}$/.test(userId)) return -1;
  const offset = Number(userId) - USER_ID_BASE;
  if (offset < 0 || offset >= USER_ID_MOD) return -1;
  return invertAffine(offset, USER_ID_MUL_INVERSE, seed % USER_ID_MOD, USER_ID_MOD);
}

/**
 * The only index whose stream can have this `user_login` with this seed, or -1. The caller
 * compares the login of that stream, since only the number in a login is checked here.
 */
export function indexOfLogin(seed: number, login: string): number {
  const match = /[0-9]+$/.exec(login);
  if (!match || match[0].length > 12 || (match[0].length > 1 && match[0][0] === "0")) return -1;
  const number = Number(match[0]);
  if (number >= LOGIN_MOD) return number;
  return invertAffine(number, LOGIN_MUL_INVERSE, seed % LOGIN_MOD, LOGIN_MOD);
}

/** Generates stream `index` of the world with this seed. */
export function generateStream(seed: number, index: number, options: GenerateOptions): HelixStream {
  const rng = new Prng(hash32(seed, index));
  const facets = drawFacets(rng, index, options);
  const language = LANGUAGES[facets.language];
  const game = GAMES[facets.game];
  const [login, userName] = makeNames(rng, index, seed, language.code);
  return {
    id: streamId(seed, index),
    user_id: String(USER_ID_BASE + (index * USER_ID_MUL + (seed % USER_ID_MOD)) % USER_ID_MOD),
    user_login: login,
    user_name: userName,
    game_id: game.id,
    game_name: game.name,
    type: "live",
    // Drawn even when replaced, so that every other field stays as in an ordinary world.
    title: pickTitle(makeTitle(rng, language.code, game.name), index, options),
    tags: makeTags(rng, language.tag, game.tags),
    viewer_count: facets.viewers,
    started_at: formatTime(facets.startedAt),
    language: language.code,
    thumbnail_url:
      `https://static-cdn.jtvnw.net/previews-ttv/live_user_${login}-{width}x{height}.jpg`,
    tag_ids: [],
    is_mature: rng.chance(0.1),
  };
}

/** The `id` of stream `index` (distinct per index, growing with it as Twitch's grow with time). */
export function streamId(seed: number, index: number): string {
  return String(STREAM_ID_BASE + index * 16 + (hash32(seed, index, 0x1d) & 15));
}

/** Generates streams 0 .. count-1 of the world with this seed. */
export function generateStreams(
  seed: number,
  count: number,
  options: GenerateOptions,
): HelixStream[] {
  const streams = new Array<HelixStream>(count);
  for (let i = 0; i < count; i++) streams[i] = generateStream(seed, i, options);
  return streams;
}

/** RFC 3339 in UTC with second precision, as Helix writes `started_at`. */
export function formatTime(ms: number): string {
  // Civil-from-days arithmetic: several times faster than Date#toISOString for 10^5 streams.
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86400);
  const secondOfDay = seconds - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(Math.floor(secondOfDay / 3600))}:${
    pad2(Math.floor(secondOfDay / 60) % 60)
  }:${pad2(secondOfDay % 60)}Z`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Age of a live broadcast: most are a few hours old, some approach the 48-hour cap. */
function drawAge(rng: Prng): number {
  const hours = rng.chance(0.9) ? -2.5 * Math.log(1 - rng.next()) : rng.next() * 47;
  return Math.min(hours, 47.5) * HOUR_MS + rng.int(0, 59) * 1000;
}

/** A login (distinct per index) and its display name, drawn together. */
function makeNames(rng: Prng, index: number, seed: number, language: string): [string, string] {
  const head = rng.pick(NAME_HEADS);
  const tail = rng.pick(NAME_TAILS);
  const joint = rng.chance(0.3) ? "_" : "";
  // Letters, then a number that is a permutation of the index: the number alone tells logins apart.
  const number = index < LOGIN_MOD ? (index * LOGIN_MUL + (seed % LOGIN_MOD)) % LOGIN_MOD : index;
  const login = `${head}${joint}${tail}${number}`;
  const local = LOCAL_DISPLAY_NAMES[language];
  if (local && rng.chance(0.4)) return [login, rng.pick(local)];
  // Otherwise the display name is the login with some letters capitalised.
  switch (rng.int(0, 3)) {
    case 0:
      return [login, login];
    case 1:
      return [login, login.toUpperCase()];
    default:
      return [login, `${capitalize(head)}${joint}${capitalize(tail)}${number}`];
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function pickTitle(ordinary: string, index: number, options: GenerateOptions): string {
  return options.hostileTitles ? hostileTitle(index) ?? ordinary : ordinary;
}

function makeTitle(rng: Prng, language: string, gameName: string): string {
  if (gameName === "") return rng.pick(UNCATEGORIZED_TITLES);
  const templates = TITLES[language] ?? TITLES.en;
  return rng.pick(templates).replaceAll("{game}", gameName).replaceAll(
    "{n}",
    String(rng.int(1, 99)),
  );
}

function makeTags(rng: Prng, languageTag: string, gameTags: readonly string[]): string[] {
  if (rng.chance(0.15)) return [];
  const wanted = Math.min(10, 1 + Math.floor(-3 * Math.log(1 - rng.next())));
  const tags: string[] = [];
  if (languageTag !== "" && rng.chance(0.7)) tags.push(languageTag);
  for (let attempt = 0; tags.length < wanted && attempt < 3 * wanted; attempt++) {
    const pool = gameTags.length > 0 && rng.chance(0.5) ? gameTags : COMMON_TAGS;
    const tag = rng.pick(pool);
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** Solves value = (index * mul + add) mod m for index, given mul's inverse modulo m. */
function invertAffine(value: number, mulInverse: bigint, add: number, m: number): number {
  const mod = BigInt(m);
  const index = ((BigInt(value - add) % mod + mod) * mulInverse) % mod;
  return Number(index);
}

function modularInverse(a: number, m: number): bigint {
  let [oldR, r] = [BigInt(a), BigInt(m)];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % BigInt(m)) + BigInt(m)) % BigInt(m);
}
