import assert from "node:assert/strict";
import { describeFailure } from "./report.ts";

Deno.test("a failed write in a dry run names stdout, not Kafka", () => {
  assert.equal(
    describeFailure({ stage: "kafka", message: "Resource busy" }, "stdout"),
    "writing to stdout failed: Resource busy",
  );
});

Deno.test("each stage of a failure reads as its own one line", () => {
  assert.equal(
    describeFailure({ stage: "kafka", message: "broker down" }),
    "producing to Kafka failed: broker down",
  );
  assert.equal(
    describeFailure({ stage: "lookup", message: "Helix answered 503" }),
    "look-up of missing streams failed: Helix answered 503",
  );
  assert.equal(describeFailure({ stage: "aborted", message: "shutting down" }), "shutting down");
  assert.equal(
    describeFailure({ stage: "helix", message: "Helix answered 503" }),
    "Helix answered 503",
  );
});
