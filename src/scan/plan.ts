/**
 * Splitting a scan into queries whose cursors can be paged side by side.
 * Helix pages one query strictly one page after another, so a full scan of
 * ~1,000 pages is bounded by the longest chain of pages; queries over
 * disjoint sets of streams (one language each) can run at once and together
 * still see every stream.
 *
 * @module
 */

import type { HelixQuery } from "../helix/client.ts";
import type { StreamFilters } from "../config/config.ts";
import type { ScanMode } from "../config/settings.ts";

/**
 * Every language value a stream can carry: the ISO 639-1 codes, the two
 * codes Twitch adds (American Sign Language "asl" and Cantonese "zh-hk") and
 * "other". The union of
 * queries over these is the whole set of live streams.
 */
// deno-fmt-ignore
export const ALL_LANGUAGES: readonly string[] = [
  "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
  "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
  "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
  "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
  "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
  "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
  "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
  "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
  "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
  "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
  "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
  "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu", "asl", "zh-hk", "other",
];

/** Languages with enough streams to deserve a query of their own (by Twitch's usual mix). */
// deno-fmt-ignore
export const BIG_LANGUAGES: readonly string[] = [
  "en", "es", "pt", "de", "ja", "ru", "fr", "ko", "zh", "it", "pl", "tr", "other",
];

/** How one scan fetches: the queries, and whether they run side by side. */
export interface ScanPlan {
  queries: HelixQuery[];
  sharded: boolean;
}

/** Helix takes at most 100 values of one filter in a query. */
const MAX_VALUES = 100;

/** What a scan that splits by language needs beyond the filters. */
export interface SplitOptions {
  /** Page unsplit this time, to find languages outside the split (an audit). */
  audit?: boolean;
  /** Languages found outside {@link ALL_LANGUAGES} by earlier audits: they join the split. */
  extraLanguages?: readonly string[];
}

/**
 * Whether the plan splits the whole directory over a fixed list of
 * languages, which a stream of an unlisted language would fall through.
 */
export function splitsByLanguage(
  filters: StreamFilters,
  mode: ScanMode,
): boolean {
  const canShard = filters.userLogins.length === 0 && filters.maxStreams === undefined;
  return mode !== "sequential" && canShard && filters.languages.length === 0 &&
    filters.gameIds.length <= 1;
}

/**
 * Plans a scan. Sharding keeps the union of the queries equal to the single
 * query: by language when no language filter is set, else by the given
 * languages, else by game. A user filter (at most 100 streams, one page) and
 * MAX_STREAMS (a global top N by viewers) are fetched sequentially. An audit
 * pages the language split's query unsplit.
 */
export function planScan(
  filters: StreamFilters,
  mode: ScanMode,
  options: SplitOptions = {},
): ScanPlan {
  const base: HelixQuery = {};
  if (filters.languages.length > 0) base.language = filters.languages;
  if (filters.gameIds.length > 0) base.game_id = filters.gameIds;
  if (filters.userLogins.length > 0) base.user_login = filters.userLogins;

  const canShard = filters.userLogins.length === 0 && filters.maxStreams === undefined;
  if (mode === "sequential" || !canShard) return { queries: [base], sharded: false };

  if (filters.languages.length > 0) {
    if (filters.languages.length === 1) return { queries: [base], sharded: false };
    return {
      queries: filters.languages.map((language) => ({ ...base, language: [language] })),
      sharded: true,
    };
  }
  if (filters.gameIds.length > 1) {
    return { queries: filters.gameIds.map((id) => ({ ...base, game_id: [id] })), sharded: true };
  }
  if (options.audit) return { queries: [base], sharded: false };
  const rest = [...ALL_LANGUAGES, ...(options.extraLanguages ?? [])].filter((l) =>
    !BIG_LANGUAGES.includes(l)
  );
  const groups: string[][] = BIG_LANGUAGES.map((l) => [l]);
  const groupCount = Math.ceil(rest.length / MAX_VALUES);
  const size = Math.ceil(rest.length / groupCount);
  for (let i = 0; i < rest.length; i += size) groups.push(rest.slice(i, i + size));
  return { queries: groups.map((language) => ({ ...base, language })), sharded: true };
}
