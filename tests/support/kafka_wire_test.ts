import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import response from "kafkajs/src/protocol/requests/joinGroup/v5/response.js";
import { joinGroupError } from "./kafka_wire.ts";

Deno.test("the refused JoinGroup answer decodes as kafkajs's own v5 decoder reads a broker's", async () => {
  const frame = joinGroupError(42, 5, 14);
  assert.equal(frame.readInt32BE(0), frame.length - 4);
  assert.equal(frame.readInt32BE(4), 42);
  // kafkajs hands the decoder what follows the correlation id.
  const decoded = await response.decode(Buffer.from(frame.subarray(8)));
  assert.deepEqual(decoded, {
    throttleTime: 0,
    clientSideThrottleTime: 0,
    errorCode: 14,
    generationId: -1,
    groupProtocol: "",
    leaderId: "",
    memberId: "",
    members: [],
  });
  // kafkajs knows code 14 (COORDINATOR_LOAD_IN_PROGRESS) by its older name.
  await assert.rejects(response.parse(decoded), {
    name: "KafkaJSProtocolError",
    type: "GROUP_LOAD_IN_PROGRESS",
  });
});

Deno.test("versions the answer was not written for are refused loudly", () => {
  assert.throws(() => joinGroupError(1, 6, 14), /JoinGroup v6 is not supported here/);
  assert.throws(() => joinGroupError(1, 1, 14), /JoinGroup v1 is not supported here/);
});
