import assert from "node:assert/strict";
import { createHelixSource, HelixError, toHelixError } from "./client.ts";
import { startSimulator } from "../sim/mod.ts";
import { withMockApiPort } from "../sim/_mock_port.ts";

Deno.test("a revoked token is answered 401, replaced once, and the page still arrives", async () => {
  await using sim = await startSimulator({ streams: 150 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    const first = await source.fetchPage({}, {});
    assert.equal(first.streams.length, 100);
    assert.notEqual(first.cursor, undefined);
    sim.revokeTokens();
    const second = await source.fetchPage({}, { cursor: first.cursor });
    assert.equal(second.streams.length, 50);
    assert.equal(second.cursor, undefined);
    assert.equal(sim.stats.tokensIssued, 2);
    assert.equal(sim.stats.byStatus["401"], 1);
  });
});

Deno.test("a wrong client secret is an auth error naming TWITCH_CLIENT_SECRET, without the secret", async () => {
  await using sim = await startSimulator({ streams: 10 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: "zz-wrong-secret",
      timeoutMs: 5000,
    });
    const error = await source.fetchPage({}, {}).then(() => null, (e) => e);
    assert.ok(error instanceof HelixError);
    assert.equal(error.auth, true);
    assert.equal(error.retryable, false);
    assert.equal(
      error.message,
      "Twitch refused the app credentials (403 invalid client secret); check TWITCH_CLIENT_SECRET",
    );
  });
});

Deno.test("a wrong client id is an auth error naming TWITCH_CLIENT_ID", async () => {
  await using sim = await startSimulator({ streams: 10 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: "nobody",
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    const error = await source.fetchPage({}, {}).then(() => null, (e) => e);
    assert.equal(
      error?.message,
      "Twitch refused the app credentials (400 invalid client); check TWITCH_CLIENT_ID",
    );
  });
});

Deno.test("5xx answers are retried until the page arrives", async () => {
  await using sim = await startSimulator({ streams: 1000, faultRate: 0.5, seed: 3 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await source.fetchPage({}, { cursor });
      page.streams.forEach((s) => ids.add(s.id));
      cursor = page.cursor;
    } while (cursor);
    assert.equal(ids.size, 1000);
    const faults = Object.entries(sim.stats.byStatus).filter(([s]) => s.startsWith("5"));
    assert.ok(
      faults.reduce((n, [, c]) => n + c, 0) > 0,
      "the simulator should have failed some requests",
    );
  });
});

Deno.test("a request that outlives HELIX_TIMEOUT_MS fails as a retryable timeout", async () => {
  await using sim = await startSimulator({ streams: 10, latencyMs: 2000 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 200,
      attempts: 1,
    });
    const error = await source.fetchPage({}, {}).then(() => null, (e) => e);
    assert.ok(error instanceof HelixError);
    assert.equal(error.message, "Helix request timed out (HELIX_TIMEOUT_MS)");
    assert.equal(error.retryable, true);
  });
});

Deno.test("errors never carry URLs, which hold the client secret", () => {
  const error = toHelixError(
    new TypeError(
      "error sending request for url (http://localhost:1/auth/token?client_secret=abc): refused",
    ),
  );
  assert.equal(error.message, "Helix request failed: error sending request for url (<url> refused");
  assert.ok(!error.message.includes("abc"));
});

/**
 * Runs `fn` with twurple pointed at a server that accepts connections and
 * never answers, as a stuck request or a long wait would look.
 */
async function withSilentServer(fn: () => Promise<void>): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    await withMockApiPort((listener.addr as Deno.NetAddr).port, fn);
  } finally {
    listener.close();
    held.forEach((conn) => conn.close());
    await accepting.catch(() => {});
  }
}

Deno.test("a token request that never answers still ends the attempt in bounded time", async () => {
  // twurple's token request has no timeout of its own.
  await withSilentServer(async () => {
    const source = createHelixSource({
      clientId: "id",
      clientSecret: "secret",
      timeoutMs: 100,
      attemptTimeoutMs: 500,
      attempts: 1,
    });
    const error = await source.fetchPage({}, {}).then(() => null, (e) => e);
    assert.ok(error instanceof HelixError);
    assert.equal(error.message, "Helix request timed out (HELIX_TIMEOUT_MS)");
  });
});

Deno.test("an abort ends a page request that is waiting for an answer within a second", async () => {
  await withSilentServer(async () => {
    const source = createHelixSource({ clientId: "id", clientSecret: "secret", timeoutMs: 5000 });
    const abort = new AbortController();
    const started = performance.now();
    setTimeout(() => abort.abort(), 100);
    const error = await source.fetchPage({}, { signal: abort.signal }).then(() => null, (e) => e);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `the request ended ${Math.round(elapsed)} ms after the start`);
    assert.ok(error instanceof HelixError);
    assert.equal(error.message, "Helix request aborted (shutting down)");
    assert.equal(error.retryable, false);
  });
});

Deno.test("an abort ends a wait for a rate-limit point within a second, and the request is never sent", async () => {
  // One point a minute: the second page waits about a minute for its point.
  await using sim = await startSimulator({ streams: 300, rateLimit: 1 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    const first = await source.fetchPage({}, {});
    const abort = new AbortController();
    const pending = source.fetchPage({}, { cursor: first.cursor, signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const aborted = performance.now();
    abort.abort();
    const error = await pending.then(() => null, (e) => e);
    assert.ok(performance.now() - aborted < 1000);
    assert.equal((error as Error).message, "Helix request aborted (shutting down)");
    assert.equal(sim.stats.pagesServed, 1);
    assert.equal(sim.stats.rateLimited, 0);
  });
});

Deno.test("15 lanes share one bucket: after it is emptied each request waits for one point, never for a full bucket", async () => {
  // 600 points a minute: one point every 100 ms, a full bucket a minute away.
  await using sim = await startSimulator({ streams: 300, rateLimit: 600 });
  await withMockApiPort(sim.port, async () => {
    const waits: number[] = [];
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
      onRateLimitWait: (ms) => waits.push(ms),
    });
    await source.fetchPage({}, { first: 1 });
    await Promise.all(Array.from({ length: 599 }, () => source.fetchPage({}, { first: 1 })));
    // The drain takes a moment, in which a few points come back.
    assert.ok(source.rateLimitRemaining()! < 10);
    waits.length = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: 15 }, async (_, lane) => {
      let cursor: string | undefined;
      do {
        cursor = (await source.fetchPage({}, { cursor, lane })).cursor;
      } while (cursor !== undefined);
    }));
    const seconds = (performance.now() - started) / 1000;
    // 45 pages at 10 points a second: about 4.5 s (a full bucket would be a minute away).
    assert.ok(seconds >= 3.5 && seconds < 7, `${seconds} s`);
    assert.ok(Math.max(...waits) < 2000, `longest wait ${Math.max(...waits)} ms`);
    assert.equal(sim.stats.rateLimited, 0);
    assert.equal(source.budget?.().spent, 645);
  });
});

Deno.test("a server that sends no Ratelimit headers leaves the points left unknown, not 0", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    const body = path === "/auth/token"
      ? { access_token: "t", expires_in: 3600, token_type: "bearer" }
      : { data: [], pagination: {} };
    return Response.json(body);
  });
  try {
    await withMockApiPort(server.addr.port, async () => {
      const source = createHelixSource({ clientId: "c", clientSecret: "s", timeoutMs: 5000 });
      const page = await source.fetchPage({}, {});
      assert.deepEqual(page.streams, []);
      assert.equal(source.rateLimitRemaining(), null);
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("Ratelimit-Remaining is reported as Helix sent it", async () => {
  await using sim = await startSimulator({ streams: 10, rateLimit: 800 });
  await withMockApiPort(sim.port, async () => {
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
    });
    await source.fetchPage({}, {});
    assert.equal(source.rateLimitRemaining(), 799);
  });
});

Deno.test("the budget's points leave out what others took from the shared bucket", async () => {
  await using sim = await startSimulator({ streams: 250 });
  await withMockApiPort(sim.port, async () => {
    let others = 0;
    const source = createHelixSource({
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      timeoutMs: 5000,
      othersSpent: () => others,
    });
    const first = await source.fetchPage({}, {});
    // EventSub's look-up: the same bucket, counted as EventSub's.
    others++;
    await source.fetchPage({ user_id: [first.streams[0].user_id] }, {});
    await source.fetchPage({}, { cursor: first.cursor });
    assert.equal(source.budget!().spent, 2);
  });
});
