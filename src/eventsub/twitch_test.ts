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

Deno.test("a refused user token is refreshed once and the call goes through", async () => {
  await using sim = await startSimulator({ streams: 5, seed: 2 });
  const login = sim.liveStreams()[0].user_login;
  const api = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    accessToken: "expiredtoken",
    refreshToken: sim.userRefreshToken,
  });
  const ids = await api.userIds([login]);
  assert.equal(ids.size, 1);
  assert.equal(sim.stats.tokensIssued, 1);
  assert.equal(sim.stats.byStatus["401"], 1);
});

Deno.test("a refused user token without a refresh token names both settings", async () => {
  await using sim = await startSimulator({ streams: 5 });
  const api = createEventSubApi({
    urls: twitchUrls(String(sim.port)),
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    accessToken: "expiredtoken",
  });
  await assert.rejects(
    () => api.userIds(["someone"]),
    {
      message:
        "the user access token was refused and there is no refresh token; set TWITCH_USER_REFRESH_TOKEN or a new TWITCH_USER_ACCESS_TOKEN",
    },
  );
});
