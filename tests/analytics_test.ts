/**
 * The topic read by a real streaming engine: Apache Flink SQL (`deno task
 * analytics`, PyFlink's local mini-cluster) answers the original design's four
 * questions from what the service wrote, and the answers are held against the
 * simulator's own truth, exactly; and while it runs, ends and starts show up
 * within seconds.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { type Answers, answersFromStreams } from "../dev/analytics/answers.ts";
import type { HelixStream } from "../src/helix/stream.ts";
import { startSimulator } from "../src/sim/mod.ts";
import { readTopic, uniqueTopic, useTestBroker } from "./support/kafka.ts";
import { ROOT, runService } from "./support/service.ts";

/** Far beyond a bounded Flink run here (a JVM start and one job): a run still going hangs. */
const ANALYTICS_TIMEOUT_MS = 10 * 60_000;
const MAX_BROADCAST_MS = 48 * 3_600_000;

/**
 * The command of `deno task analytics`, run directly rather than through `deno task`, so
 * that killing it reaches the tool itself (and, through its stdin, Flink).
 */
const TASK: string[] = (JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks
  .analytics as string).split(" ").slice(1);

function analytics(args: string[], env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [...TASK, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function analyticsOnce(env: Record<string, string>): Promise<Answers> {
  const child = analytics(["--once", "--json"], env).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ANALYTICS_TIMEOUT_MS);
  const output = await child.output();
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  assert.equal(lines.length, 1, `one JSON object, got:\n${lines.join("\n")}`);
  return JSON.parse(lines[0]);
}

Deno.test("after scans with churn, restarts, expiries and a narrowed filter, Flink's answers equal the truth", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("analytics");
  const env = {
    SOURCE: "twitch",
    // A coherent Helix (the simulator, the CLI's mock): no young stream to hold.
    HELIX_CACHE_HORIZON: "0",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
    TWITCH_CLIENT_ID: "datagen-sim-client",
    TWITCH_CLIENT_SECRET: "datagen-sim-secret",
  };
  const world = { streams: 600, seed: 11, expiredStreams: 4 };
  {
    // Churn: streams end, start, and channels go live again under new ids between scans.
    await using churning = await startSimulator({ ...world, churn: 40, restartRate: 0.5 });
    for (let scan = 0; scan < 3; scan++) {
      const result = await runService(["--once"], {
        ...env,
        TWURPLE_MOCK_API_PORT: String(churning.port),
      });
      assert.equal(result.code, 0, result.stderr);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
  // The last scan sees the same world held still (the same seed, so the same ids), so that
  // "the truth at that moment" is one instant; it is also scanned with a narrower filter.
  await using still = await startSimulator(world);
  const languages = ["en", "es", "de", "pt", "fr"];
  const last = await runService(["--once"], {
    ...env,
    TWURPLE_MOCK_API_PORT: String(still.port),
    STREAM_LANGUAGES: languages.join(","),
  });
  assert.equal(last.code, 0, last.stderr);

  const reasons = new Set(
    (await readTopic(broker.brokers, topic)).filter((r) => r.value === null)
      .map((r) => r.headers["end-reason"]),
  );
  assert.deepEqual([...reasons].sort(), ["deselected", "ended", "expired"]);

  const answers = await analyticsOnce({ KAFKA_BROKERS: broker.bootstrap, KAFKA_TOPIC: topic });
  assert.ok(answers.as_of !== null, "the clock was read");
  const now = Date.parse(answers.as_of!);
  const truth: HelixStream[] = still.liveStreams().filter((s) =>
    languages.includes(s.language) && now - Date.parse(s.started_at) < MAX_BROADCAST_MS
  );
  const expected = answersFromStreams(truth, now);
  assert.ok(expected.started_last_15_min.length > 0, "some streams started recently");
  assert.equal(answers.live_streams, expected.live_streams);
  assert.deepEqual(answers.top_games, expected.top_games);
  assert.deepEqual(answers.started_last_15_min, expected.started_last_15_min);
  assert.deepEqual(answers.top_tags, expected.top_tags);
  assert.deepEqual(answers.top_streamer_per_game, expected.top_streamer_per_game);
});

/** JSON lines of a live `deno task analytics --json`, each with when it arrived. */
function startLiveAnalytics(env: Record<string, string>) {
  const child = analytics(["--json"], env).spawn();
  const seen: { at: number; answers: Answers }[] = [];
  let stderr = "";
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) seen.push({ at: Date.now(), answers: JSON.parse(line) });
    }
  })();
  const readingErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  return {
    /** The first answers at or after `since` that satisfy `predicate`, and when they came. */
    async waitFor(
      predicate: (answers: Answers) => boolean,
      since: number,
      timeoutMs: number,
    ): Promise<{ at: number; answers: Answers }> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find((s) => s.at >= since && predicate(s.answers));
        if (found) return found;
        if (Date.now() > deadline) {
          const last = seen.at(-1)?.answers;
          throw new Error(
            `no matching answers within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${stderr}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async [Symbol.asyncDispose]() {
      // SIGTERM: the tool closes the runner's stdin and Flink's job ends with it.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await child.status;
      clearTimeout(timer);
      await Promise.all([reading, readingErr]);
    },
  };
}

Deno.test("while analytics runs, a stream that starts joins its answers and one that ends leaves them, within 10 s", async () => {
  await using broker = await useTestBroker();
  const topic = uniqueTopic("analytics-live");
  const seeded = await runService(["--once"], {
    SOURCE: "simulated",
    SIM_STREAMS: "300",
    SIM_SEED: "5",
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_TOPIC: topic,
  });
  assert.equal(seeded.code, 0, seeded.stderr);
  const records = await readTopic(broker.brokers, topic);
  const streams = records.map((r) => JSON.parse(r.value!) as HelixStream);
  const live = streams.length;

  await using flink = startLiveAnalytics({ KAFKA_BROKERS: broker.bootstrap, KAFKA_TOPIC: topic });
  const first = await flink.waitFor((a) => a.live_streams === live, 0, ANALYTICS_TIMEOUT_MS);
  const topGame = first.answers.top_games[0].game_name;
  const leader = streams.find((s) =>
    s.user_login === first.answers.top_streamer_per_game[0].user_login
  )!;
  assert.equal(leader.game_name, topGame);

  const producer = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
    .producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // A stream starts, now, in the top game, with more viewers than any.
    const started: HelixStream = {
      ...leader,
      id: "999000000001",
      user_id: "999000000002",
      user_login: "flink_newcomer",
      user_name: "Flink_Newcomer",
      viewer_count: leader.viewer_count + 1000,
      started_at: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000", ""),
    };
    await producer.send({
      topic,
      messages: [{ key: started.id, value: JSON.stringify(started) }],
    });
    const sentStart = Date.now();
    const joined = await flink.waitFor(
      (a) =>
        a.live_streams === live + 1 &&
        a.started_last_15_min.some((s) => s.id === started.id) &&
        a.top_streamer_per_game[0].user_login === started.user_login,
      sentStart,
      ANALYTICS_TIMEOUT_MS,
    );
    const startMs = joined.at - sentStart;

    // Both it and the game's former leader end.
    await producer.send({
      topic,
      messages: [{ key: started.id, value: null }, { key: leader.id, value: null }],
    });
    const sentEnd = Date.now();
    const left = await flink.waitFor(
      (a) =>
        a.live_streams === live - 1 &&
        !a.started_last_15_min.some((s) => s.id === started.id) &&
        a.top_streamer_per_game.every((s) =>
          s.user_login !== started.user_login && s.user_login !== leader.user_login
        ),
      sentEnd,
      ANALYTICS_TIMEOUT_MS,
    );
    const endMs = left.at - sentEnd;
    console.log(`analytics live: a start showed after ${startMs} ms, an end after ${endMs} ms`);
    assert.ok(startMs <= 10_000, `the start showed after ${startMs} ms`);
    assert.ok(endMs <= 10_000, `the end showed after ${endMs} ms`);
  } finally {
    await producer.disconnect();
  }
});

Deno.test("without Java or a Python of 3.10 to 3.12, analytics stops with one line naming it", async () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const noJava = await analytics(["--once"], { JAVA_HOME: "/nonexistent" }).output();
  assert.equal(noJava.code, 1);
  assert.equal(
    decode(noJava.stderr),
    "error: Java 11 or newer is needed to run Flink; install it (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME\n",
  );
  // A PATH with Java and Deno but no Python at all.
  const bin = await Deno.makeTempDir();
  try {
    const java = await new Deno.Command("sh", { args: ["-c", "command -v java"] }).output();
    await Deno.symlink(decode(java.stdout).trim(), `${bin}/java`);
    const noPython = await new Deno.Command(Deno.execPath(), {
      args: [...TASK, "--once"],
      cwd: ROOT,
      clearEnv: true,
      env: { PATH: bin, HOME: Deno.env.get("HOME") ?? "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(noPython.code, 1);
    assert.equal(
      decode(noPython.stderr),
      "error: Python 3.10, 3.11 or 3.12 is needed to run Flink (apache-flink has no wheels for others); install one (e.g. apt-get install python3 python3-venv)\n",
    );
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});
