import assert from "node:assert/strict";
import { ApiClient } from "@twurple/api";
import { AppTokenAuthProvider } from "@twurple/auth";
import { useSharedLimiter } from "./twurple_limiter.ts";
import { createSharedLimiter } from "./limiter.ts";
import { startSimulator } from "../sim/mod.ts";
import { withMockApiPort } from "../sim/_mock_port.ts";

Deno.test("the shared limiter replaces twurple's own in the installed twurple", async () => {
  await using sim = await startSimulator({ streams: 10, rateLimit: 60 });
  await withMockApiPort(sim.port, async () => {
    const api = new ApiClient({
      authProvider: new AppTokenAuthProvider(sim.clientId, sim.clientSecret),
    });
    const limiter = createSharedLimiter();
    useSharedLimiter(api, limiter);
    const answer = await api.callApi<{ data: unknown[] }>({
      type: "helix",
      url: "streams",
      query: { first: "5" },
    });
    assert.equal(answer.data.length, 5);
    assert.equal(limiter.spent(), 1);
    assert.equal(limiter.limit(), 60);
    assert.equal(limiter.remaining(), 59);
  });
});

Deno.test("a twurple without the limiter it replaces is refused with one line saying what to do", () => {
  assert.throws(
    () => useSharedLimiter({} as ApiClient, createSharedLimiter()),
    {
      message:
        "@twurple/api changed: ApiClient no longer has the rate limiter this service replaces; pin @twurple/api to 8.2 or update src/helix/twurple_limiter.ts",
    },
  );
});
