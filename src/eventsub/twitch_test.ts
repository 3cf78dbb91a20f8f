import assert from "node:assert/strict";
import { createEventSubApi, twitchUrls } from "./twitch.ts";
import { startSimulator } from "../sim/mod.ts";

Deno.test("Twitch's URLs by default, a mock's /mock and /auth paths with a mock port", () => {
  assert.deepEqual(twitchUrls(), {
    helix: "https://api.twitch.tv/helix",
    auth: "https://id.twitch.tv/oauth2",
  });
  assert.deepEqual(twitchUrls("8090"), {
    helix: "http://localhost:8090/mock",
    auth: "http://localhost:8090/auth",
  });
});

Deno.test("many calls that see 401 together share one refresh of the app token", async () => {
  await using sim = await startSimulator({ streams: 5, seed: 2 });
  const api = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
  });
  await api.conduits();
  assert.equal(sim.stats.tokensIssued, 1);
  sim.revokeTokens();
  const answers = await Promise.all(Array.from({ length: 50 }, () => api.conduits()));
  assert.equal(answers.length, 50);
  assert.equal(sim.stats.byStatus["401"], 50);
  assert.equal(sim.stats.tokensIssued, 2);
});

Deno.test("wrong app credentials name both settings", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const api = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: "wrong",
  });
  await assert.rejects(() => api.conduits(), {
    message:
      "getting an app access token failed (403); check TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET",
  });
});

Deno.test("a 409 is reported as not created, and the totals are Twitch's", async () => {
  await using sim = await startSimulator({ streams: 5, eventSubMaxCost: 1 });
  const api = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
  });
  const conduit = await api.createConduit(1);
  const first = await api.subscribe("stream.online", { broadcaster_user_id: "5" }, conduit.id);
  assert.deepEqual({ ...first, id: "" }, {
    created: true,
    id: "",
    total: 1,
    totalCost: 1,
    maxTotalCost: 1,
  });
  assert.deepEqual(
    await api.subscribe("stream.online", { broadcaster_user_id: "5" }, conduit.id),
    { created: false },
  );
  await assert.rejects(
    () => api.subscribe("stream.offline", { broadcaster_user_id: "5" }, conduit.id),
    { status: 429 },
  );
  const listed = await api.subscriptions();
  assert.deepEqual(listed.data.map((s) => [s.type, s.userId, s.conduitId]), [
    ["stream.online", "5", conduit.id],
  ]);
});
