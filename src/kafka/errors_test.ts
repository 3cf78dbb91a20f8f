import assert from "node:assert/strict";
import {
  describeKafkaError,
  FATAL_PRODUCER_ERRORS,
  fatalProducerError,
  INCURABLE_CONSUMER_ERRORS,
  incurableConsumerError,
} from "./errors.ts";
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

Deno.test("a consumer joins again after what a retry can cure, and gives up on what it cannot", () => {
  // As kafkajs wraps an error its retrier bailed on, or that exhausted its retries.
  const wrapped = (cause: unknown) =>
    Object.assign(new Error("wrapped"), { name: "KafkaJSNonRetriableError", cause });
  for (const type of INCURABLE_CONSUMER_ERRORS) {
    assert.equal(incurableConsumerError(wrapped(protocolError(type))), type);
  }
  assert.equal(
    incurableConsumerError(protocolError("TRANSACTIONAL_ID_AUTHORIZATION_FAILED")),
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  );
  for (const name of ["KafkaJSGroupCoordinatorNotFound", "KafkaJSSASLAuthenticationError"]) {
    assert.equal(incurableConsumerError(Object.assign(new Error("x"), { name })), name);
  }
  for (
    const type of [
      "COORDINATOR_LOAD_IN_PROGRESS",
      "GROUP_LOAD_IN_PROGRESS",
      "COORDINATOR_NOT_AVAILABLE",
      "GROUP_COORDINATOR_NOT_AVAILABLE",
      "NOT_COORDINATOR",
      "NOT_COORDINATOR_FOR_GROUP",
      "REBALANCE_IN_PROGRESS",
      "INCONSISTENT_GROUP_PROTOCOL",
      "UNKNOWN_MEMBER_ID",
    ]
  ) {
    assert.equal(incurableConsumerError(wrapped(protocolError(type))), null, type);
  }
  for (const name of ["KafkaJSConnectionError", "KafkaJSNumberOfRetriesExceeded"]) {
    assert.equal(incurableConsumerError(Object.assign(new Error("x"), { name })), null, name);
  }
  assert.equal(incurableConsumerError(new Error("plain")), null);
  assert.equal(incurableConsumerError(undefined), null);
});
