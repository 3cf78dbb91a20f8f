import assert from "node:assert/strict";
import { describeKafkaError, FATAL_PRODUCER_ERRORS, fatalProducerError } from "./errors.ts";
import { parseConfig } from "../config/config.ts";

function protocolError(type: string) {
  return Object.assign(new Error(`${type} text`), { name: "KafkaJSProtocolError", type });
}

Deno.test("fatal producer errors are found through kafkajs's wrappers", () => {
  for (const type of FATAL_PRODUCER_ERRORS) {
    const wrapped = Object.assign(new Error("retries exceeded"), {
      name: "KafkaJSNumberOfRetriesExceeded",
      cause: protocolError(type),
    });
    assert.equal(fatalProducerError(wrapped), type);
  }
  assert.equal(fatalProducerError(protocolError("NOT_LEADER_OR_FOLLOWER")), null);
  assert.equal(fatalProducerError(new Error("plain")), null);
});

Deno.test("a producer denied by an ACL gets one line naming the topic and the grant", () => {
  const config = parseConfig({ SOURCE: "simulated", KAFKA_TOPIC: "streams" });
  assert.equal(
    describeKafkaError(protocolError("CLUSTER_AUTHORIZATION_FAILED"), config),
    "the broker denied the producer (CLUSTER_AUTHORIZATION_FAILED); grant the service's user Write and Describe on topic streams (see the README's Kafka ACLs)",
  );
});
