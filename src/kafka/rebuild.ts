/**
 * The start-up rebuild: the live set read back from the topic itself, which
 * is the service's only state store. It must end: with the state, or within
 * `KAFKA_REBUILD_TIMEOUT_MS` with one line that says why not.
 *
 * @module
 */

import type { Consumer, ConsumerRunConfig, Kafka } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config/config.ts";
import { LiveSet } from "../scan/live_set.ts";
import { type LiveStream, liveStream } from "../scan/record.ts";
import {
  heapNeededMb,
  liveStreamCapacity,
  MAX_OLD_SPACE_FLAG,
  usableHeapBytes,
} from "../ops/memory.ts";
import { causeChain } from "../util/errors.ts";
import { backoffDelay } from "../util/retry.ts";
import { incurableConsumerError } from "./errors.ts";

const log = getLogger(["datagen", "kafka"]);

/** Prefix of the rebuild consumer's group id; ACLs for the service grant this prefix. */
export const REBUILD_GROUP_PREFIX = "twitch-datagen-rebuild-";

/** How long a rebuild may take unless `KAFKA_REBUILD_TIMEOUT_MS` says otherwise. */
export const DEFAULT_REBUILD_TIMEOUT_MS = 120_000;

/** Options of {@linkcode readLiveState}. */
export interface RebuildOptions {
  /** Give up after this long (default {@linkcode DEFAULT_REBUILD_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** The principal the broker sees, e.g. `User:datagen`, named in ACL advice. */
  principal?: string;
  /** How often progress is reported while reading (default 5 s). */
  progressIntervalMs?: number;
  /** Receives progress reports (default: an info log line). */
  onProgress?: (progress: RebuildProgress) => void;
  /** The most live streams the heap holds through a scan (default: from V8's heap limit). */
  maxStreams?: number;
  /**
   * Receives each tombstone an event wrote (`end-reason: offline`) and its timestamp: a
   * broadcast stream.offline ended stays ended across a restart.
   */
  onEnded?: (streamId: string, at: number) => void;
}

/** How far a rebuild has got. */
export interface RebuildProgress {
  /** Records read so far, tombstones included. */
  records: number;
  /** Records between each partition's start and end when the rebuild began: an upper bound. */
  recordsAtMost: number;
  /** Partitions read to their end (empty ones count as done). */
  partitionsDone: number;
  /** Partitions of the topic. */
  partitions: number;
}

/** A rebuild that cannot finish, with one line for the person running the service. */
export class KafkaRebuildError extends Error {
  /**
   * @param message What failed and what to do, in one line.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KafkaRebuildError";
  }
}

/**
 * The topic holds more live streams than the heap can hold: restarting will
 * not help, only a larger heap will.
 */
export class RebuildMemoryError extends KafkaRebuildError {}

/** The one line of a {@linkcode RebuildMemoryError}. */
export function explainMemoryShortfall(
  topic: string,
  streams: number,
  maxStreams: number,
): string {
  const limitMb = Math.round(usableHeapBytes() / (1024 * 1024));
  return `the start-up rebuild stopped at ${streams} live streams in topic ${topic}: a heap of ${limitMb} MB holds at most ${maxStreams} through a scan; raise ${MAX_OLD_SPACE_FLAG} (MB) to at least ${
    heapNeededMb(streams)
  } for this many, more for growth, in deno.json's start and compile tasks, and the memory limits of the Compose file and the systemd unit with it (the README gives MB per 100,000 live streams)`;
}

/** The rebuild options that come from the service's configuration. */
export function rebuildOptions(config: Config): RebuildOptions {
  return {
    timeoutMs: config.kafka.rebuildTimeoutMs,
    principal: config.kafka.sasl ? `User:${config.kafka.sasl.username}` : undefined,
  };
}

/**
 * Reads the topic from the start to its current end and returns the live
 * streams it holds: the newest value per key, tombstones delete. The topic
 * is the only state store, so a restarted service knows what it had produced.
 *
 * @throws {KafkaRebuildError} on timeout, when the consumer crashes or when an ACL denies it.
 */
export async function readLiveState(
  kafka: Kafka,
  topic: string,
  options: RebuildOptions = {},
): Promise<LiveSet> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REBUILD_TIMEOUT_MS;
  const groupId = `${REBUILD_GROUP_PREFIX}${crypto.randomUUID()}`;
  const context = { topic, groupId, principal: options.principal };
  const progress: RebuildProgress = {
    records: 0,
    recordsAtMost: 0,
    partitionsDone: 0,
    partitions: 0,
  };
  const { promise: failed, reject: fail } = Promise.withResolvers<never>();
  failed.catch(() => {});
  // Crashes of the consumer that a new consumer may cure, and the last one's error.
  const crashes = { count: 0, last: "" };
  const timer = setTimeout(() => {
    fail(
      new KafkaRebuildError(
        `the start-up rebuild did not finish reading topic ${topic} within KAFKA_REBUILD_TIMEOUT_MS=${timeoutMs} ms (${
          describeProgress(progress)
        }${
          crashes.count === 0
            ? ""
            : `; its consumer failed ${crashes.count} times, last with: ${crashes.last}`
        }); raise KAFKA_REBUILD_TIMEOUT_MS for a large topic, or check that the brokers answer`,
      ),
    );
  }, timeoutMs);
  const report = options.onProgress ?? logProgress(topic);
  const ticker = setInterval(() => {
    if (progress.partitions > 0) report({ ...progress });
  }, options.progressIntervalMs ?? 5000);
  const open: { disconnect(): Promise<void> }[] = [];
  // Set once the rebuild ended: no consumer starts after that.
  let ended = false;
  let restart: ReturnType<typeof setTimeout> | undefined;
  /** Waits for `step` unless the rebuild fails first. */
  async function within<T>(step: Promise<T>): Promise<T> {
    return await Promise.race([step, failed]);
  }
  /** Connects a client unless the rebuild fails first; one that connects too late is closed. */
  async function connect(client: { connect(): Promise<void>; disconnect(): Promise<void> }) {
    open.push(client);
    const connecting = client.connect();
    try {
      await within(connecting);
    } catch (error) {
      connecting.then(() => client.disconnect(), () => {}).catch(() => {});
      throw error;
    }
  }
  try {
    // Compact, and filled record by record as each fetch arrives: the raw records of one
    // fetch (maxBytes) are all the rebuild holds besides it.
    const state = new LiveSet();
    const maxStreams = options.maxStreams ?? liveStreamCapacity();
    const admin = kafka.admin();
    await connect(admin);
    const offsets = await within(admin.fetchTopicOffsets(topic));
    const pending = new Map<number, bigint>();
    for (const o of offsets) {
      if (BigInt(o.high) > BigInt(o.low)) {
        pending.set(o.partition, BigInt(o.high));
        progress.recordsAtMost += Number(BigInt(o.high) - BigInt(o.low));
      }
    }
    progress.partitions = offsets.length;
    progress.partitionsDone = offsets.length - pending.size;
    if (pending.size === 0) return state;
    const done = Promise.withResolvers<void>();
    let skipped = 0;
    let shortfall: RebuildMemoryError | null = null;
    let consumer: Consumer | null = null;
    /** Starts a consumer that reads the topic from its start; a crash replaces it (below). */
    const start = async () => {
      consumer = kafka.consumer({
        groupId,
        // Small fetches: the rebuild is bound by parsing, and big ones only raise the memory peak.
        maxBytes: 4 * 1024 * 1024,
        maxBytesPerPartition: 1024 * 1024,
        maxWaitTimeInMs: 100,
        // A crash is handled below; a consumer restarting in the background would not be.
        retry: { restartOnFailure: () => Promise.resolve(false) },
      });
      // A batch that holds only control records (transaction markers) or aborted records never
      // reaches eachBatch, but kafkajs reports every batch it passes here with its last offset.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const high = pending.get(payload.partition);
        if (high !== undefined && BigInt(payload.lastOffset) + 1n >= high) {
          pending.delete(payload.partition);
          progress.partitionsDone++;
          if (pending.size === 0) done.resolve();
        }
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => crashed(payload.error));
      await connect(consumer);
      await within(consumer.subscribe({ topic, fromBeginning: true }));
      await within(consumer.run(run));
    };
    /**
     * A crash that no retry cures (a denied ACL, a topic gone) ends the rebuild at once; any
     * other (a coordinator still loading or moving, a lost connection) starts a new consumer
     * from the topic's start after a backoff, within the rebuild's timeout. Reading a record
     * twice is harmless: the newest value per key still wins.
     */
    const crashed = (error: unknown) => {
      // A consumer still starting when the rebuild ended fails with the rebuild's own error.
      if (ended || error instanceof KafkaRebuildError) return;
      if (incurableConsumerError(error) !== null) {
        fail(new KafkaRebuildError(explainRebuildFailure(error, context), { cause: error }));
        return;
      }
      crashes.count++;
      crashes.last = String((error as Error)?.message ?? error).split("\n")[0];
      const waitMs = 300 +
        backoffDelay(crashes.count, { baseMs: 500, capMs: 5000, random: Math.random });
      log.warn(
        "The start-up rebuild's consumer of {topic} failed ({error}); reading again from the start in {waitMs} ms",
        { topic, error: crashes.last, waitMs },
      );
      restart = setTimeout(() => {
        progress.records = 0;
        start().catch(crashed);
      }, waitMs);
    };
    const run: ConsumerRunConfig = {
      autoCommit: false,
      eachBatchAutoResolve: true,
      // deno-lint-ignore require-await
      eachBatch: async ({ batch }) => {
        if (state.size > maxStreams) return;
        for (const message of batch.messages) {
          progress.records++;
          const key = message.key?.toString("utf8");
          if (key === undefined) continue;
          if (message.value === null) {
            state.delete(key);
            if (headerText(message.headers?.["end-reason"]) === "offline") {
              options.onEnded?.(key, Number(message.timestamp));
            }
            continue;
          }
          const live = parseLive(message.value.toString("utf8"));
          if (live === null) skipped++;
          else state.set(key, live);
        }
        // Checked per fetch, long before the heap is full: the limit leaves room for a scan.
        if (state.size > maxStreams) {
          shortfall = new RebuildMemoryError(explainMemoryShortfall(topic, state.size, maxStreams));
          fail(shortfall);
        }
      },
    };
    await start();
    await within(done.promise);
    // The last fetch can both end the partitions and pass the limit.
    if (shortfall !== null) throw shortfall;
    // The state is complete: a slow goodbye must neither lose it nor outlast the timeout.
    await within(consumer!.disconnect()).catch(() => {});
    open.pop();
    await within(admin.deleteGroups([groupId])).catch(() => {});
    if (skipped > 0) {
      log.warn("Ignored {skipped} records of {topic} that are not Helix stream objects", {
        skipped,
        topic,
      });
    }
    return state;
  } catch (error) {
    if (error instanceof KafkaRebuildError || !isAuthorizationFailure(error)) throw error;
    throw new KafkaRebuildError(explainRebuildFailure(error, context), { cause: error });
  } finally {
    ended = true;
    clearTimeout(timer);
    clearTimeout(restart);
    clearInterval(ticker);
    for (const client of open.reverse()) await client.disconnect().catch(() => {});
  }
}

/** Progress as words, e.g. `1200 of at most 5000 records read, 1 of 3 partitions done`. */
export function describeProgress(progress: RebuildProgress): string {
  return `${progress.records} of at most ${progress.recordsAtMost} records read, ${progress.partitionsDone} of ${progress.partitions} partitions done`;
}

function logProgress(topic: string): (progress: RebuildProgress) => void {
  return (progress) => {
    log.info(
      "Rebuilding the live set from {topic}: {records} of at most {recordsAtMost} records read, {partitionsDone} of {partitions} partitions done",
      { topic, ...progress },
    );
  };
}

/** The Kafka error code name (`type`) of an error or of the first error it wraps that has one. */
function errorType(error: unknown): string | undefined {
  return causeChain(error).map((e) => e.type).find((t): t is string => typeof t === "string");
}

function isAuthorizationFailure(error: unknown): boolean {
  return errorType(error)?.endsWith("_AUTHORIZATION_FAILED") ?? false;
}

/**
 * One line that says why the rebuild's consumer failed and, when an ACL
 * denied it, which ACL to add.
 */
export function explainRebuildFailure(
  error: unknown,
  context: { topic: string; groupId: string; principal?: string },
): string {
  const type = errorType(error);
  const who = context.principal ?? "the service's principal";
  if (type === "GROUP_AUTHORIZATION_FAILED") {
    return `the broker denies ${who} the consumer group ${context.groupId} of the start-up rebuild (GROUP_AUTHORIZATION_FAILED); add an ACL allowing ${who} Read and Delete on groups with the prefix ${REBUILD_GROUP_PREFIX} (--resource-pattern-type prefixed)`;
  }
  if ((error as { name?: unknown })?.name === "KafkaJSGroupCoordinatorNotFound") {
    // kafkajs drops FindCoordinator's error code and throws this instead; with a broker that
    // answers (the offsets were read), a denied group is what it hides.
    return `the broker names no coordinator for the start-up rebuild's consumer group ${context.groupId}, which is how kafkajs reports a group that ${who} may not use; add an ACL allowing ${who} Read and Delete on groups with the prefix ${REBUILD_GROUP_PREFIX} (--resource-pattern-type prefixed)`;
  }
  if (type === "TOPIC_AUTHORIZATION_FAILED") {
    return `the broker denies ${who} reading topic ${context.topic} for the start-up rebuild (TOPIC_AUTHORIZATION_FAILED); add an ACL allowing ${who} Describe and Read on topic ${context.topic}`;
  }
  const message = String((error as { message?: unknown })?.message ?? error).split("\n")[0];
  if (type !== undefined && type.endsWith("_AUTHORIZATION_FAILED")) {
    return `the broker denies ${who} what the start-up rebuild of topic ${context.topic} needs (${type}: ${message}); see the ACLs the README lists`;
  }
  return `the start-up rebuild's consumer of topic ${context.topic} failed (${message}); check the brokers and the service's ACLs`;
}

/** The fields a later scan needs from a record's value, or null when it is not a stream object. */
export function parseLive(text: string): LiveStream | null {
  // The values are JSON.stringify output of Helix objects, where a quote inside
  // a string is always escaped, so these patterns can only match top-level
  // fields. Reading a few fields this way spares the start-up rebuild a full
  // parse (and its garbage) per record; anything unusual takes the full parse.
  const userId = /"user_id":"(\d+)"/.exec(text)?.[1];
  const startedAt = /"started_at":"([0-9T:.Z+-]+)"/.exec(text)?.[1];
  const language = /"language":"([a-zA-Z0-9-]*)"/.exec(text)?.[1];
  const gameId = /"game_id":"(\d*)"/.exec(text)?.[1];
  const userLogin = /"user_login":"(\w+)"/.exec(text)?.[1];
  // Viewers rank the channels EventSub follows: a stream a scan misses keeps its rank.
  const viewers = /"viewer_count":(\d+)[,}]/.exec(text)?.[1];
  if (
    userId !== undefined && startedAt !== undefined && language !== undefined &&
    gameId !== undefined && userLogin !== undefined
  ) {
    return liveStream({
      user_id: userId,
      started_at: startedAt,
      language,
      game_id: gameId,
      // A match can be a slice that keeps the whole record's text alive: copy it out.
      user_login: JSON.parse(`"${userLogin}"`),
      ...(viewers === undefined ? {} : { viewer_count: Number(viewers) }),
    });
  }
  try {
    const value = JSON.parse(text);
    if (typeof value?.user_id !== "string" || typeof value?.started_at !== "string") return null;
    return liveStream({
      user_id: value.user_id,
      started_at: value.started_at,
      language: typeof value.language === "string" ? value.language : "",
      game_id: typeof value.game_id === "string" ? value.game_id : "",
      user_login: typeof value.user_login === "string" ? value.user_login : "",
      ...(typeof value.viewer_count === "number" ? { viewer_count: value.viewer_count } : {}),
    });
  } catch {
    return null;
  }
}

/** A header's value as text (kafkajs gives a Buffer, a string, an array or nothing). */
function headerText(value: unknown): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  if (one === undefined || one === null) return undefined;
  return typeof one === "string" ? one : new TextDecoder().decode(one as Uint8Array);
}
