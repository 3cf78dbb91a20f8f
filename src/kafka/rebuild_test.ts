import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Kafka } from "kafkajs";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  describeProgress,
  explainRebuildFailure,
  parseLive,
  readLiveState,
  RebuildMemoryError,
  type RebuildProgress,
} from "./rebuild.ts";
import { parseConfig } from "../config/config.ts";
import { describeKafkaError } from "./errors.ts";

Deno.test("the rebuild reads user, start time and what filters select by from a record's value", () => {
  const value = JSON.stringify({
    id: "1",
    user_id: "42",
    user_login: "some_login",
    game_id: "509658",
    title: 'a title with "user_id":"7" and "language":"xx" in it',
    started_at: "2026-01-01T00:00:00Z",
    language: "de",
  });
  assert.deepEqual(parseLive(value), {
    userId: "42",
    startedAt: Date.UTC(2026, 0, 1),
    language: "de",
    gameId: "509658",
    userLogin: "some_login",
  });
});

Deno.test("a value in another field order or spacing still parses", () => {
  const value =
    '{ "started_at" : "2026-01-01T00:00:00Z", "user_id" : "42", "language" : "en", "game_id" : "", "user_login" : "x" }';
  assert.deepEqual(parseLive(value), {
    userId: "42",
    startedAt: Date.UTC(2026, 0, 1),
    language: "en",
    gameId: "",
    userLogin: "x",
  });
});

Deno.test("the rebuild keeps each record's viewers, which rank EventSub's channels", () => {
  const stream = {
    id: "1",
    user_id: "42",
    user_login: "some_login",
    game_id: "509658",
    viewer_count: 123456,
    title: 'a title with "viewer_count":7 in it',
    started_at: "2026-01-01T00:00:00Z",
    language: "de",
  };
  assert.equal(parseLive(JSON.stringify(stream))?.viewers, 123456);
  // The full parse, for a value the patterns do not read (a login that is not a word).
  assert.equal(parseLive(JSON.stringify({ ...stream, user_login: "ünïcode" }))?.viewers, 123456);
  // A record without viewers says nothing of them.
  const { viewer_count: _, ...without } = stream;
  assert.equal("viewers" in parseLive(JSON.stringify(without))!, false);
});

Deno.test("a value that is not a stream object is skipped", () => {
  assert.equal(parseLive("not json"), null);
  assert.equal(parseLive('{"id":"1"}'), null);
});

/** One fetched batch as the fake consumer hands it out; no messages means markers only. */
interface FakeBatch {
  partition: number;
  messages: { key: string; value: string | null }[];
  lastOffset: number;
}

/** What a fake Kafka saw: the rebuild's group id and which clients are still connected. */
interface FakeLog {
  groupId?: string;
  connected: Set<string>;
  deletedGroups: string[];
  /** Consumers created. */
  consumers: number;
}

/**
 * A Kafka with kafkajs's shape as far as the rebuild uses it. Like kafkajs,
 * it calls eachBatch only for batches with messages left after filtering,
 * and reports every batch through END_BATCH_PROCESS.
 */
function fakeKafka(
  setup: {
    offsets: { partition: number; low: string; high: string }[];
    batches?: FakeBatch[];
    crash?: unknown;
    /** The first consumers crash with these, one each, in order; later ones read. */
    crashes?: unknown[];
    offsetsError?: unknown;
  },
): { kafka: Kafka; seen: FakeLog } {
  const seen: FakeLog = { connected: new Set(), deletedGroups: [], consumers: 0 };
  const events = { END_BATCH_PROCESS: "end_batch", CRASH: "crash" };
  const kafka = {
    admin() {
      return {
        connect: () => Promise.resolve(void seen.connected.add("admin")),
        disconnect: () => Promise.resolve(void seen.connected.delete("admin")),
        fetchTopicOffsets: () =>
          setup.offsetsError
            ? Promise.reject(setup.offsetsError)
            : Promise.resolve(setup.offsets.map((o) => ({ ...o, offset: o.high }))),
        deleteGroups: (ids: string[]) => Promise.resolve(void seen.deletedGroups.push(...ids)),
      };
    },
    consumer({ groupId }: { groupId: string }) {
      seen.groupId = groupId;
      const crash = setup.crash ?? setup.crashes?.[seen.consumers];
      seen.consumers++;
      const listeners = new Map<string, (event: { payload: unknown }) => void>();
      return {
        events,
        on(event: string, listener: (event: { payload: unknown }) => void) {
          listeners.set(event, listener);
        },
        connect: () => Promise.resolve(void seen.connected.add("consumer")),
        disconnect: () => Promise.resolve(void seen.connected.delete("consumer")),
        subscribe: () => Promise.resolve(),
        run({ eachBatch }: { eachBatch: (payload: unknown) => Promise<void> }) {
          (async () => {
            if (crash !== undefined) {
              // As kafkajs: the crashed consumer is disconnected before CRASH is emitted.
              seen.connected.delete("consumer");
              listeners.get(events.CRASH)?.({ payload: { error: crash, groupId, restart: false } });
              return;
            }
            for (const batch of setup.batches ?? []) {
              const messages = batch.messages.map((m) => ({
                key: Buffer.from(m.key),
                value: m.value === null ? null : Buffer.from(m.value),
              }));
              if (messages.length > 0) {
                await eachBatch({ batch: { partition: batch.partition, messages } });
              }
              listeners.get(events.END_BATCH_PROCESS)?.({
                payload: { partition: batch.partition, lastOffset: String(batch.lastOffset) },
              });
            }
          })();
          return Promise.resolve();
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, seen };
}

function stream(id: string, userId: string): { key: string; value: string } {
  return {
    key: id,
    value: JSON.stringify({ id, user_id: userId, started_at: "2026-01-01T00:00:00Z" }),
  };
}

const STARTED = Date.UTC(2026, 0, 1);

/** Two partitions: partition 0's three records arrive, partition 1's two never do. */
const HALF_READ = {
  offsets: [{ partition: 0, low: "0", high: "3" }, { partition: 1, low: "0", high: "2" }],
  batches: [{
    partition: 0,
    messages: [stream("1", "11"), stream("2", "22"), stream("3", "33")],
    lastOffset: 2,
  }],
};

Deno.test("the rebuild ends when a partition's last batch holds only a transaction marker", async () => {
  // Offsets 0-2 are records of a committed transaction, offset 3 its commit marker: kafkajs
  // never calls eachBatch for the marker, so only its batch report can end the partition.
  const { kafka, seen } = fakeKafka({
    offsets: [{ partition: 0, low: "0", high: "4" }, { partition: 1, low: "0", high: "0" }],
    batches: [
      {
        partition: 0,
        messages: [stream("1", "11"), stream("2", "22"), stream("3", "33")],
        lastOffset: 2,
      },
      { partition: 0, messages: [], lastOffset: 3 },
    ],
  });
  const state = await readLiveState(kafka, "t", { timeoutMs: 5000 });
  assert.deepEqual(
    new Map(state),
    new Map([
      ["1", { userId: "11", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
      ["2", { userId: "22", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
      ["3", { userId: "33", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
    ]),
  );
  assert.deepEqual(seen.connected, new Set());
  assert.deepEqual(seen.deletedGroups, [seen.groupId]);
  assert.match(seen.groupId!, /^twitch-datagen-rebuild-[0-9a-f-]{36}$/);
});

Deno.test("tombstones delete and the newest value of a key wins", async () => {
  const { kafka } = fakeKafka({
    offsets: [{ partition: 0, low: "0", high: "4" }],
    batches: [{
      partition: 0,
      messages: [
        stream("1", "11"),
        stream("2", "22"),
        { key: "1", value: null },
        stream("2", "23"),
      ],
      lastOffset: 3,
    }],
  });
  assert.deepEqual(
    new Map(await readLiveState(kafka, "t")),
    new Map([["2", { userId: "23", startedAt: STARTED, language: "", gameId: "", userLogin: "" }]]),
  );
});

Deno.test("a topic with more live streams than the heap holds stops the rebuild with one line naming the heap setting", async () => {
  const { kafka, seen } = fakeKafka({
    offsets: [{ partition: 0, low: "0", high: "3" }],
    batches: [{
      partition: 0,
      messages: [stream("1", "11"), stream("2", "22"), stream("3", "33")],
      lastOffset: 2,
    }],
  });
  const error = await readLiveState(kafka, "streams", { maxStreams: 2 }).then(
    () => assert.fail("the rebuild went on"),
    (error) => error,
  );
  assert.ok(error instanceof RebuildMemoryError);
  assert.match(
    error.message,
    /^the start-up rebuild stopped at 3 live streams in topic streams: a heap of \d+ MB holds at most 2 through a scan; raise --max-old-space-size \(MB\) to at least \d+ for this many/,
  );
  assert.doesNotMatch(error.message, /\n/);
  assert.deepEqual(seen.connected, new Set());
});

Deno.test("a rebuild that cannot reach the end fails after the timeout with one line naming the setting", async () => {
  const { kafka, seen } = fakeKafka(HALF_READ);
  const started = performance.now();
  await assert.rejects(readLiveState(kafka, "streams", { timeoutMs: 300 }), {
    name: "KafkaRebuildError",
    message:
      "the start-up rebuild did not finish reading topic streams within KAFKA_REBUILD_TIMEOUT_MS=300 ms (3 of at most 5 records read, 1 of 2 partitions done); raise KAFKA_REBUILD_TIMEOUT_MS for a large topic, or check that the brokers answer",
  });
  const ms = performance.now() - started;
  assert.ok(ms >= 290 && ms < 2000, `took ${ms} ms`);
  assert.deepEqual(seen.connected, new Set());
});

Deno.test("a rebuild reports its progress while it reads", async () => {
  const { kafka } = fakeKafka(HALF_READ);
  const reports: RebuildProgress[] = [];
  await assert.rejects(
    readLiveState(kafka, "streams", {
      timeoutMs: 250,
      progressIntervalMs: 50,
      onProgress: (p) => reports.push(p),
    }),
  );
  assert.ok(reports.length >= 3, `${reports.length} reports`);
  for (const report of reports) {
    assert.deepEqual(report, { records: 3, recordsAtMost: 5, partitionsDone: 1, partitions: 2 });
  }
  assert.equal(describeProgress(reports[0]), "3 of at most 5 records read, 1 of 2 partitions done");
});

/** An error as kafkajs reports a broker's error code. */
function protocolError(message: string, type: string, code: number): Error {
  return Object.assign(new Error(message), { name: "KafkaJSProtocolError", type, code });
}

Deno.test("a consumer denied its group ends the rebuild with the ACL to add", async () => {
  const denied = protocolError(
    "Not authorized to access group: Group authorization failed",
    "GROUP_AUTHORIZATION_FAILED",
    30,
  );
  const { kafka, seen } = fakeKafka({
    offsets: [{ partition: 0, low: "0", high: "3" }],
    crash: denied,
  });
  const error = await readLiveState(kafka, "streams", { principal: "User:datagen" }).then(
    () => assert.fail("the rebuild succeeded"),
    (e) => e,
  );
  assert.equal(error.name, "KafkaRebuildError");
  assert.equal(
    error.message,
    `the broker denies User:datagen the consumer group ${seen.groupId} of the start-up rebuild (GROUP_AUTHORIZATION_FAILED); add an ACL allowing User:datagen Read and Delete on groups with the prefix twitch-datagen-rebuild- (--resource-pattern-type prefixed)`,
  );
  assert.deepEqual(seen.connected, new Set());
  const config = parseConfig({ SOURCE: "simulated" });
  assert.equal(describeKafkaError(error, config), error.message);
});

Deno.test("a group coordinator kafkajs cannot find, as when the group is denied, names the group ACL", () => {
  const notFound = Object.assign(new Error("Failed to find group coordinator"), {
    name: "KafkaJSGroupCoordinatorNotFound",
  });
  assert.equal(
    explainRebuildFailure(notFound, { topic: "streams", groupId: "twitch-datagen-rebuild-1" }),
    "the broker names no coordinator for the start-up rebuild's consumer group twitch-datagen-rebuild-1, which is how kafkajs reports a group that the service's principal may not use; add an ACL allowing the service's principal Read and Delete on groups with the prefix twitch-datagen-rebuild- (--resource-pattern-type prefixed)",
  );
});

Deno.test("a topic the principal may not read ends the rebuild with the ACL to add", async () => {
  const denied = protocolError(
    "Not authorized to access topics: [Topic authorization failed]",
    "TOPIC_AUTHORIZATION_FAILED",
    29,
  );
  const { kafka, seen } = fakeKafka({ offsets: [], offsetsError: denied });
  await assert.rejects(readLiveState(kafka, "streams"), {
    name: "KafkaRebuildError",
    message:
      "the broker denies the service's principal reading topic streams for the start-up rebuild (TOPIC_AUTHORIZATION_FAILED); add an ACL allowing the service's principal Describe and Read on topic streams",
  });
  assert.deepEqual(seen.connected, new Set());
});

Deno.test("any other crash that ends the rebuild says so in one line", () => {
  assert.equal(
    explainRebuildFailure(new Error("Connection timeout\nmore"), {
      topic: "streams",
      groupId: "g",
    }),
    "the start-up rebuild's consumer of topic streams failed (Connection timeout); check the brokers and the service's ACLs",
  );
});

Deno.test("without a progress callback the rebuild logs its progress", async () => {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["datagen", "kafka"], sinks: ["memory"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    const { kafka } = fakeKafka(HALF_READ);
    await assert.rejects(
      readLiveState(kafka, "streams", { timeoutMs: 180, progressIntervalMs: 50 }),
    );
  } finally {
    await reset();
  }
  assert.ok(records.length >= 2, `${records.length} log records`);
  for (const record of records) {
    assert.equal(record.level, "info");
    assert.equal(
      record.message.join(""),
      "Rebuilding the live set from streams: 3 of at most 5 records read, 1 of 2 partitions done",
    );
  }
});

Deno.test("a consumer crash that a retry may cure starts a new consumer, and the rebuild completes", async () => {
  const loading = protocolError(
    "The coordinator is loading and hence can't process requests for this group",
    "GROUP_LOAD_IN_PROGRESS",
    14,
  );
  const wrapped = Object.assign(new Error(loading.message), {
    name: "KafkaJSNonRetriableError",
    cause: loading,
  });
  const { kafka, seen } = fakeKafka({
    offsets: [{ partition: 0, low: "0", high: "2" }],
    crashes: [wrapped, loading],
    batches: [{ partition: 0, messages: [stream("1", "11"), stream("2", "22")], lastOffset: 1 }],
  });
  const state = await readLiveState(kafka, "streams", { timeoutMs: 10_000 });
  assert.deepEqual(
    new Map(state),
    new Map([
      ["1", { userId: "11", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
      ["2", { userId: "22", startedAt: STARTED, language: "", gameId: "", userLogin: "" }],
    ]),
  );
  assert.equal(seen.consumers, 3);
  assert.deepEqual(seen.connected, new Set());
  assert.deepEqual(seen.deletedGroups, [seen.groupId]);
});

Deno.test("a consumer that keeps crashing ends the rebuild at its timeout, naming the last error", async () => {
  const loading = protocolError("The coordinator is loading", "GROUP_LOAD_IN_PROGRESS", 14);
  const { kafka, seen } = fakeKafka({
    offsets: [{ partition: 0, low: "0", high: "2" }],
    crashes: Array.from({ length: 100 }, () => loading),
  });
  const error = await readLiveState(kafka, "streams", { timeoutMs: 1500 }).then(
    () => assert.fail("the rebuild succeeded"),
    (e) => e,
  );
  assert.equal(error.name, "KafkaRebuildError");
  assert.match(
    error.message,
    /^the start-up rebuild did not finish reading topic streams within KAFKA_REBUILD_TIMEOUT_MS=1500 ms \(0 of at most 2 records read, 0 of 1 partitions done; its consumer failed (\d+) times, last with: The coordinator is loading\); raise KAFKA_REBUILD_TIMEOUT_MS for a large topic, or check that the brokers answer$/,
  );
  const failures = Number(/failed (\d+) times/.exec(error.message)![1]);
  assert.equal(seen.consumers, failures);
  // No consumer starts after the rebuild ended.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(seen.consumers, failures);
  assert.deepEqual(seen.connected, new Set());
});
