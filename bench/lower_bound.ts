/**
 * The shortest time any client could take for a scan plan: pages within one
 * query follow each other (cursor), and all pages draw on one rate-limit
 * bucket. Pure.
 *
 * @module
 */

import type { ScanPlan } from "../src/scan/plan.ts";

/** The lower bound of a scan and what sets it. */
export interface LowerBound {
  seconds: number;
  /** Pages of the longest query (cursor chain). */
  longestChainPages: number;
  totalPages: number;
}

/** Pages a query needs for `count` streams (an empty answer is one page too). */
function pages(count: number): number {
  return Math.max(1, Math.ceil(count / 100));
}

/**
 * Lower bound of a scan over streams counted by language: the longest chain
 * of pages at `latencyMs` each, or the time for the bucket (`bucket` points,
 * refilled at `rateLimit` per minute) to pay for every page, whichever is
 * longer.
 */
export function scanLowerBound(
  plan: ScanPlan,
  languages: Readonly<Record<string, number>>,
  options: { latencyMs: number; rateLimit: number; bucket: number },
): LowerBound {
  const total = Object.values(languages).reduce((a, b) => a + b, 0);
  const chains = plan.queries.map((q) =>
    pages(q.language ? q.language.reduce((sum, l) => sum + (languages[l] ?? 0), 0) : total)
  );
  const totalPages = chains.reduce((a, b) => a + b, 0);
  const longestChainPages = Math.max(...chains);
  const chainSeconds = (longestChainPages * options.latencyMs) / 1000;
  const rateSeconds = Math.max(0, totalPages - options.bucket) / (options.rateLimit / 60);
  return { seconds: Math.max(chainSeconds, rateSeconds), longestChainPages, totalPages };
}
