/**
 * Which channels EventSub follows: the pinned ones (`WATCH_USER_LOGINS`)
 * plus the channels with the most viewers the scans saw, `cap` in all.
 * Every subscription change costs rate-limit points, so the set moves with
 * hysteresis: a channel near the cut does not go in and out with each scan.
 *
 * The rule, applied after each scan (ranks count from 0 over the scan's
 * live channels by viewers, highest first):
 * 1. Pinned channels are always in.
 * 2. A member stays while it is live and ranked below `1.5 × cap`, or while
 *    it has been offline (not in the scan) for less than `offlineGraceMs`:
 *    its next `stream.online` is what real time is for.
 * 3. Free places go to the best-ranked live channels not in the set.
 * 4. When the set is full, a channel ranked within the top `cap` takes the
 *    place of the worst live member ranked at `1.25 × cap` or beyond. The
 *    gap between the two ranks keeps a channel at the cut from swapping
 *    places with one just past it.
 * Pure: plain data in, the new set out.
 *
 * @module
 */

/** A channel a scan saw live. */
export interface RankedChannel {
  userId: string;
  viewers: number;
}

/** A member of the set: when it was last seen live. */
export interface Member {
  lastLiveAt: number;
}

/** What the selection needs. */
export interface SelectOptions {
  /** Channels kept in all (pinned included). */
  cap: number;
  /** User ids always in. */
  pinned: readonly string[];
  /** How long an offline member stays (default 30 min). */
  offlineGraceMs?: number;
  now: number;
}

/** How long an offline member stays by default. */
export const OFFLINE_GRACE_MS = 30 * 60_000;

/**
 * The new set, from the current one and the scan's live channels. Returns the members with
 * their last time live, pinned first, then by rank.
 */
export function selectChannels(
  current: ReadonlyMap<string, Member>,
  live: readonly RankedChannel[],
  options: SelectOptions,
): Map<string, Member> {
  const { cap, now } = options;
  const grace = options.offlineGraceMs ?? OFFLINE_GRACE_MS;
  const ranked = [...live].sort((a, b) => b.viewers - a.viewers || cmp(a.userId, b.userId));
  const rank = new Map(ranked.map((c, i) => [c.userId, i]));
  const next = new Map<string, Member>();
  for (const userId of options.pinned.slice(0, cap)) {
    next.set(userId, {
      lastLiveAt: rank.has(userId) ? now : current.get(userId)?.lastLiveAt ?? now,
    });
  }
  const stay = 1.5 * cap;
  const keep: { userId: string; member: Member; rank: number }[] = [];
  for (const [userId, member] of current) {
    if (next.has(userId)) continue;
    const r = rank.get(userId);
    if (r !== undefined && r < stay) keep.push({ userId, member: { lastLiveAt: now }, rank: r });
    else if (r === undefined && now - member.lastLiveAt < grace) {
      keep.push({ userId, member, rank: Infinity });
    }
  }
  // Best first; offline members (in grace) after the live ones, most recently live first.
  keep.sort((a, b) => a.rank - b.rank || b.member.lastLiveAt - a.member.lastLiveAt);
  for (const k of keep) {
    if (next.size >= cap) break;
    next.set(k.userId, k.member);
  }
  const displaceable = keep.filter((k) =>
    next.has(k.userId) && k.rank !== Infinity && k.rank >= 1.25 * cap
  )
    .reverse();
  for (const channel of ranked) {
    const r = rank.get(channel.userId)!;
    if (next.has(channel.userId)) continue;
    if (next.size < cap) {
      next.set(channel.userId, { lastLiveAt: now });
      continue;
    }
    if (r >= cap) break;
    const worst = displaceable.shift();
    if (worst === undefined) break;
    next.delete(worst.userId);
    next.set(channel.userId, { lastLiveAt: now });
  }
  return next;
}

/**
 * The share of live viewers in channels of `set` (0 when nobody watches anything); `all`: the
 * viewers of every live channel, when `live` is a {@link rankingOf} part of them.
 */
export function coverage(
  live: readonly RankedChannel[],
  set: ReadonlySet<string>,
  all = live.reduce((sum, c) => sum + c.viewers, 0),
): number {
  let covered = 0;
  for (const c of live) if (set.has(c.userId)) covered += c.viewers;
  return all === 0 ? 0 : covered / all;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The part of a scan's live set that {@link selectChannels} and {@link coverage} need. */
export interface Ranking {
  /** The `top` best ranked channels, and every other live one that `keep` names. */
  channels: RankedChannel[];
  /** Viewers of every live channel. */
  viewers: number;
}

/**
 * The channels of `live` that a selection of at most `top / 1.5` channels can use, in one pass
 * and without a copy of the live set (a million streams are a million objects): the `top` best
 * ranked, plus the members and pinned channels (`keep`) wherever they rank. A channel ranked
 * at `top` or beyond keeps a rank of at least `top` among these, so {@link selectChannels}
 * picks the same set as from the whole ranking when `top` ≥ 1.5 × cap.
 */
export function rankingOf(
  live: Iterable<{ userId: string; viewers?: number }>,
  options: { top: number; keep: { has(userId: string): boolean } },
): Ranking {
  const top = Math.max(0, Math.ceil(options.top));
  const kept: RankedChannel[] = [];
  // A heap whose root is the worst of the best `top` channels not kept.
  const heap: RankedChannel[] = [];
  const worse = (a: RankedChannel, b: RankedChannel) =>
    a.viewers < b.viewers || (a.viewers === b.viewers && a.userId > b.userId);
  let viewers = 0;
  for (const stream of live) {
    const channel = { userId: stream.userId, viewers: stream.viewers ?? 0 };
    viewers += channel.viewers;
    if (options.keep.has(channel.userId)) kept.push(channel);
    else if (heap.length < top) heapPush(heap, channel, worse);
    else if (top > 0 && worse(heap[0], channel)) heapReplaceRoot(heap, channel, worse);
  }
  return { channels: [...heap, ...kept], viewers };
}

type Worse<T> = (a: T, b: T) => boolean;

function heapPush<T>(heap: T[], item: T, worse: Worse<T>): void {
  let i = heap.push(item) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(heap[i], heap[parent])) break;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function heapReplaceRoot<T>(heap: T[], item: T, worse: Worse<T>): void {
  heap[0] = item;
  for (let i = 0;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let least = i;
    if (left < heap.length && worse(heap[left], heap[least])) least = left;
    if (right < heap.length && worse(heap[right], heap[least])) least = right;
    if (least === i) return;
    [heap[i], heap[least]] = [heap[least], heap[i]];
    i = least;
  }
}
