/**
 * Audits of the language split. A sharded scan covers a fixed list of
 * languages, so a stream whose language Twitch reports outside that list
 * falls into no shard and is never produced. Now and then a scheduled scan
 * pages unsplit instead (an audit); every language it finds outside the
 * split joins the split from then on. Pure: the caller passes the clock.
 *
 * @module
 */

import { ALL_LANGUAGES } from "./plan.ts";

/** Slack for schedule ticks that arrive a little early. */
const TICK_SLACK_MS = 5_000;

/** When audits fall due, and what they found. */
export class LanguageAudit {
  /** Milliseconds between audits; 0 turns them off. */
  readonly intervalMs: number;
  #lastAuditAt: number | null = null;
  #extra: string[] = [];

  /** @param intervalMs Milliseconds between audits (`SCAN_AUDIT_INTERVAL`); 0 turns them off. */
  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /** Languages found outside {@link ALL_LANGUAGES}, in the order they were found. */
  get extraLanguages(): readonly string[] {
    return this.#extra;
  }

  /**
   * Whether the scheduled scan starting at `now` is an audit. The start-up
   * scan never is (it stays fast); the first scheduled tick after it is.
   */
  due(now: number, options: { startup: boolean }): boolean {
    if (this.intervalMs === 0 || options.startup) return false;
    return this.#lastAuditAt === null || now - this.#lastAuditAt >= this.intervalMs - TICK_SLACK_MS;
  }

  /** Records an audit that started at `startedAt`; one that failed falls due again at once. */
  done(startedAt: number, ok: boolean): void {
    if (ok) this.#lastAuditAt = startedAt;
  }

  /** Adds the languages a scan saw outside the split; returns the ones that are new. */
  learn(languages: Iterable<string>): string[] {
    const found: string[] = [];
    for (const language of languages) {
      if (ALL_LANGUAGES.includes(language) || this.#extra.includes(language)) continue;
      this.#extra.push(language);
      found.push(language);
    }
    return found;
  }
}
