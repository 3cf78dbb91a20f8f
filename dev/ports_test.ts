import assert from "node:assert/strict";
import { freePort, portIsFree } from "./ports.ts";

Deno.test("a free port can be bound, and a bound one is not free", () => {
  const port = freePort();
  assert.ok(port > 0 && port <= 65535);
  assert.equal(portIsFree(port), true);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    assert.equal(portIsFree(port), false);
  } finally {
    listener.close();
  }
});
