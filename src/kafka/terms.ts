/**
 * Terms of leadership: what an instance does when the election makes it
 * leader (open a session: fence the old leader, rebuild the live set from
 * the topic, then scan) and when it steps down (stop the running scan, close
 * the session). Changes of role are applied one at a time, in order, and
 * only the latest wish counts: a leadership lost while the session was still
 * opening closes that session without a scan.
 *
 * @module
 */

import type { Role } from "./leader.ts";

/** One term: the session it opened and the signal that ends it. */
export interface Term<S> {
  session: S;
  /** Aborted when the term ends; a running scan stops on it. */
  signal: AbortSignal;
}

/** The edges of {@link createTerms}. */
export interface TermsOptions<S> {
  /** Opens the leader's session (fencing, rebuild); may throw. */
  open(): Promise<S>;
  /** Closes a session. */
  close(session: S): Promise<void>;
  /** Called once the term started: scan now. */
  begin(term: Term<S>): void;
  /** Resolves once the term's running work stopped (its signal is aborted by then). */
  end(term: Term<S>): Promise<void>;
  /** Called when `open` failed while still leader; the open is retried after `retryMs`. */
  failed(error: unknown): void;
  /** Wait before opening again after a failure (default 5000 ms). */
  retryMs?: number;
}

/** The terms of one instance. */
export interface Terms<S> {
  /** Applies a change of role (in order, latest wins). */
  change(role: Role): void;
  /** The running term, if this instance leads and its session is open. */
  current(): Term<S> | null;
  /** Ends any term and applies no more changes; resolves when done. */
  stop(): Promise<void>;
}

/** Creates the terms; the instance starts as a standby. */
export function createTerms<S>(options: TermsOptions<S>): Terms<S> {
  let wanted: Role = "standby";
  let stopped = false;
  let term: (Term<S> & { abort: AbortController }) | null = null;
  let chain: Promise<void> = Promise.resolve();
  let retry: ReturnType<typeof setTimeout> | null = null;

  async function settle() {
    if (wanted === "leader" && !stopped) {
      if (term !== null) return;
      let session: S;
      try {
        session = await options.open();
      } catch (error) {
        if (wanted === "leader" && !stopped) {
          options.failed(error);
          retry ??= setTimeout(() => {
            retry = null;
            schedule();
          }, options.retryMs ?? 5000);
        }
        return;
      }
      if (wanted !== "leader" || stopped) {
        await options.close(session);
        return;
      }
      const abort = new AbortController();
      term = { session, signal: abort.signal, abort };
      options.begin(term);
      return;
    }
    const ending = term;
    if (ending === null) return;
    term = null;
    ending.abort.abort();
    await options.end(ending);
    await options.close(ending.session);
  }

  function schedule() {
    chain = chain.then(settle, settle);
  }

  return {
    change(role) {
      wanted = role;
      schedule();
    },
    current() {
      return term;
    },
    async stop() {
      stopped = true;
      if (retry !== null) clearTimeout(retry);
      schedule();
      await chain;
    },
  };
}
