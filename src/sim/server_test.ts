import assert from "node:assert/strict";
import { startSimulator } from "./mod.ts";
import { fetchToken, getStreams } from "./_test_utils.ts";

const T0 = 1_750_000_000_000;

async function post(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: "POST", ...init });
  return { status: response.status, body: await response.json() };
}

Deno.test("the client-credentials flow returns a bearer token", async () => {
  await using sim = await startSimulator({ streams: 10, tokenTtlSeconds: 3600 });
  const { status, body } = await post(
    `${sim.url}/auth/token?client_id=${sim.clientId}&client_secret=${sim.clientSecret}&grant_type=client_credentials`,
  );
  assert.equal(status, 200);
  const token = body as { access_token: string; expires_in: number; token_type: string };
  assert.match(token.access_token, /^[a-z0-9]{30}$/);
  assert.deepEqual({ ...token, access_token: "" }, {
    access_token: "",
    expires_in: 3600,
    token_type: "bearer",
  });
  assert.equal(sim.stats.tokensIssued, 1);
});

Deno.test("the token endpoint also takes its parameters as a form body", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const { status } = await post(`${sim.url}/auth/token`, {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
      grant_type: "client_credentials",
    }),
  });
  assert.equal(status, 200);
});

Deno.test("a wrong client id gets 400 invalid client", async () => {
  await using sim = await startSimulator({ streams: 10 });
  assert.deepEqual(
    await post(
      `${sim.url}/auth/token?client_id=nope&client_secret=${sim.clientSecret}&grant_type=client_credentials`,
    ),
    { status: 400, body: { status: 400, message: "invalid client" } },
  );
});

Deno.test("a wrong client secret gets 403 invalid client secret", async () => {
  await using sim = await startSimulator({ streams: 10 });
  assert.deepEqual(
    await post(
      `${sim.url}/auth/token?client_id=${sim.clientId}&client_secret=nope&grant_type=client_credentials`,
    ),
    { status: 403, body: { status: 403, message: "invalid client secret" } },
  );
});

Deno.test("credentials given as options replace the well-known ones", async () => {
  await using sim = await startSimulator({ streams: 10, clientId: "mine", clientSecret: "s3cret" });
  assert.equal(sim.clientId, "mine");
  assert.equal(typeof await fetchToken(sim), "string");
});

Deno.test("a Helix call without a token gets 401", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const response = await fetch(`${sim.url}/mock/streams`, {
    headers: { "Client-Id": sim.clientId },
  });
  assert.equal(response.status, 401);
  assert.deepEqual(await response.json(), {
    error: "Unauthorized",
    status: 401,
    message: "OAuth token is missing",
  });
});

Deno.test("a Helix call without a Client-Id gets 401", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const token = await fetchToken(sim);
  const response = await fetch(`${sim.url}/mock/streams`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 401);
  assert.deepEqual(await response.json(), {
    error: "Unauthorized",
    status: 401,
    message: "Client-Id header required",
  });
});

Deno.test("an unknown token gets 401 Invalid OAuth token", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const answer = await getStreams(sim, "abcdefghijabcdefghijabcdefghij");
  assert.equal(answer.status, 401);
  assert.deepEqual(answer.body, {
    error: "Unauthorized",
    status: 401,
    message: "Invalid OAuth token",
  });
});

Deno.test("a token stops working when its lifetime is over, and a new one works", async () => {
  let now = T0;
  await using sim = await startSimulator({ streams: 10, tokenTtlSeconds: 60, clock: () => now });
  const token = await fetchToken(sim);
  assert.equal((await getStreams(sim, token)).status, 200);
  now += 60_000;
  const expired = await getStreams(sim, token);
  assert.equal(expired.status, 401);
  assert.deepEqual(expired.body, {
    error: "Unauthorized",
    status: 401,
    message: "Invalid OAuth token",
  });
  assert.equal((await getStreams(sim, await fetchToken(sim))).status, 200);
});

Deno.test("a 401 for a known client still carries its rate-limit headers", async () => {
  const now = T0;
  await using sim = await startSimulator({ streams: 10, clock: () => now });
  const token = await fetchToken(sim);
  await getStreams(sim, token);
  sim.revokeTokens();
  const denied = await getStreams(sim, token);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("Ratelimit-Remaining"), "799");
});

Deno.test("revoked tokens get 401", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const token = await fetchToken(sim);
  sim.revokeTokens();
  assert.equal((await getStreams(sim, token)).status, 401);
});

Deno.test("the validate endpoint reports a token's client and remaining lifetime", async () => {
  let now = T0;
  await using sim = await startSimulator({ streams: 10, tokenTtlSeconds: 100, clock: () => now });
  const token = await fetchToken(sim);
  now += 40_000;
  const response = await fetch(`${sim.url}/auth/validate`, {
    headers: { Authorization: `OAuth ${token}` },
  });
  assert.deepEqual(await response.json(), { client_id: sim.clientId, scopes: [], expires_in: 60 });
});

Deno.test("bad query parameters get Helix's 400", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const token = await fetchToken(sim);
  const cases: [Record<string, string | string[]>, string][] = [
    [
      { first: "0" },
      'The parameter "first" was malformed: the value must be greater than or equal to 1',
    ],
    [
      { first: "101" },
      'The parameter "first" was malformed: the value must be less than or equal to 100',
    ],
    [{ first: "ten" }, 'The parameter "first" was malformed: the value must be an integer'],
    [{ type: "vod" }, 'The parameter "type" was malformed: the value must be one of "all", "live"'],
    [
      { user_login: Array.from({ length: 101 }, (_, i) => `user${i}`) },
      'The parameter "user_login" was malformed: the value must have at most 100 items',
    ],
    [
      { language: Array.from({ length: 101 }, () => "en") },
      'The parameter "language" was malformed: the value must have at most 100 items',
    ],
    [
      { after: "bm90LWEtY3Vyc29y" },
      'The parameter "after" was malformed: the value is not a valid cursor',
    ],
  ];
  for (const [query, message] of cases) {
    const answer = await getStreams(sim, token, query);
    assert.deepEqual({ status: answer.status, body: answer.body }, {
      status: 400,
      body: { error: "Bad Request", status: 400, message },
    });
  }
});

Deno.test("100 values of a filter are accepted", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const token = await fetchToken(sim);
  const answer = await getStreams(sim, token, {
    user_id: Array.from({ length: 100 }, (_, i) => String(i)),
  });
  assert.equal(answer.status, 200);
});

Deno.test("every Helix answer carries the rate-limit headers", async () => {
  const now = T0;
  await using sim = await startSimulator({ streams: 10, clock: () => now });
  const token = await fetchToken(sim);
  const ok = await getStreams(sim, token);
  const bad = await getStreams(sim, token, { first: "0" });
  assert.deepEqual(
    [ok, bad].map((
      a,
    ) => [
      a.headers.get("Ratelimit-Limit"),
      a.headers.get("Ratelimit-Remaining"),
      a.headers.get("Ratelimit-Reset"),
    ]),
    [["800", "799", "1750000001"], ["800", "798", "1750000001"]],
  );
});

Deno.test("an empty bucket answers 429 until points come back", async () => {
  let now = T0;
  await using sim = await startSimulator({ streams: 10, rateLimit: 3, clock: () => now });
  const token = await fetchToken(sim);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await getStreams(sim, token)).status);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const refused = await getStreams(sim, token);
  assert.deepEqual(refused.body, {
    error: "Too Many Requests",
    status: 429,
    message: "Too Many Requests",
  });
  assert.equal(refused.headers.get("Ratelimit-Remaining"), "0");
  assert.equal(refused.headers.get("Ratelimit-Reset"), "1750000060");
  now += 20_000;
  assert.equal((await getStreams(sim, token)).status, 200);
  assert.equal(sim.stats.rateLimited, 2);
});

Deno.test("with fault rate 1 every Get Streams answer is a 5xx", async () => {
  await using sim = await startSimulator({ streams: 10, faultRate: 1 });
  const token = await fetchToken(sim);
  const statuses = new Set<number>();
  for (let i = 0; i < 20; i++) statuses.add((await getStreams(sim, token)).status);
  assert.deepEqual([...statuses].sort(), [500, 503]);
  assert.equal(sim.stats.pagesServed, 0);
});

Deno.test("faults are drawn from the seed, so a run repeats exactly", async () => {
  async function run(): Promise<number[]> {
    await using sim = await startSimulator({ streams: 10, faultRate: 0.3, seed: 5 });
    const token = await fetchToken(sim);
    const statuses = [];
    for (let i = 0; i < 30; i++) statuses.push((await getStreams(sim, token)).status);
    return statuses;
  }
  const first = await run();
  assert.deepEqual(await run(), first);
  const faults = first.filter((s) => s >= 500).length;
  assert.ok(faults > 0 && faults < 30, `${faults} faults`);
});

Deno.test("after failAfter successful pages every Get Streams answer is a 503", async () => {
  await using sim = await startSimulator({ streams: 100, failAfter: 2 });
  const token = await fetchToken(sim);
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await getStreams(sim, token));
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 503, 503]);
  assert.deepEqual(answers[2].body, { error: "Service Unavailable", status: 503, message: "" });
});

Deno.test("stats count answers by status", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const token = await fetchToken(sim);
  await getStreams(sim, token);
  await getStreams(sim, token, { first: "0" });
  await getStreams(sim, "x");
  assert.deepEqual(sim.stats, {
    requests: 4,
    byStatus: { "200": 2, "400": 1, "401": 1 },
    rateLimited: 0,
    tokensIssued: 1,
    pagesServed: 1,
  });
});

Deno.test("unknown paths get 404", async () => {
  await using sim = await startSimulator({ streams: 10 });
  const response = await fetch(`${sim.url}/mock/games`);
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "Not Found", status: 404, message: "" });
});

Deno.test("the simulator answers on localhost, 127.0.0.1 and the port it reports", async () => {
  await using sim = await startSimulator({ streams: 10 });
  for (const host of ["localhost", "127.0.0.1"]) {
    const response = await fetch(`http://${host}:${sim.port}/mock/streams`);
    assert.equal(response.status, 401);
    await response.body?.cancel();
  }
});
