/**
 * One-line explanations of Kafka failures that name the setting to check.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { causeChain } from "../util/errors.ts";

function chain(error: unknown): string[] {
  return causeChain(error).filter((e) => e.message).map((e) => String(e.message).split("\n")[0]);
}

const UNREACHABLE = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
]);

/** Whether a Kafka failure came from not reaching the broker, as when it restarts or crashes. */
export function isUnreachable(error: unknown): boolean {
  return causeChain(error).some((e) => typeof e.name === "string" && UNREACHABLE.has(e.name));
}

/**
 * Kafka error types after which the producer cannot go on as it is: its
 * idempotence state is broken, it was fenced, or it is not allowed to write.
 */
export const FATAL_PRODUCER_ERRORS: readonly string[] = [
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
  "PRODUCER_FENCED",
  "INVALID_PRODUCER_ID_MAPPING",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
];

/** The fatal producer error type in an error's cause chain, or null. */
export function fatalProducerError(error: unknown): string | null {
  const types = causeChain(error).map((e) => e.type);
  return types.find((t): t is string =>
    typeof t === "string" && FATAL_PRODUCER_ERRORS.includes(t)
  ) ??
    null;
}

/**
 * Kafka error types that no retry of a consumer cures: a permission, a
 * setting or a topic that is missing must change first. Anything else (what
 * kafkajs marks `retriable`, a coordinator still loading, a lost connection,
 * another member's protocol) may pass, so a consumer joins again.
 */
export const INCURABLE_CONSUMER_ERRORS: readonly string[] = [
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "INVALID_SESSION_TIMEOUT",
  "INVALID_GROUP_ID",
  "INVALID_TOPIC_EXCEPTION",
  "UNSUPPORTED_VERSION",
];

/**
 * kafkajs errors (by name) that no retry cures. kafkajs drops FindCoordinator's
 * error code and throws `KafkaJSGroupCoordinatorNotFound`, which is how a denied
 * group shows; a failed SASL login does not pass on a retry either.
 */
const INCURABLE_CONSUMER_NAMES: readonly string[] = [
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSSASLAuthenticationError",
];

/**
 * Why a consumer's failure (a crash, or a failed connect) cannot be cured by
 * joining again: the Kafka error type or kafkajs error name in its cause chain,
 * or null when a retry may cure it. The election and the start-up rebuild
 * both decide with this.
 */
export function incurableConsumerError(error: unknown): string | null {
  for (const e of causeChain(error)) {
    if (
      typeof e.type === "string" &&
      (INCURABLE_CONSUMER_ERRORS.includes(e.type) || e.type.endsWith("_AUTHORIZATION_FAILED"))
    ) return e.type;
    if (typeof e.name === "string" && INCURABLE_CONSUMER_NAMES.includes(e.name)) return e.name;
  }
  return null;
}

/** Explains a Kafka error in one line, without secrets. */
export function describeKafkaError(error: unknown, config: Config): string {
  const messages = chain(error);
  const name = (error as { name?: string })?.name ?? "";
  const all = messages.join(": ");
  let text: string;
  if (name === "KafkaRebuildError") {
    // Already one line that names the setting or the ACL to fix.
    text = messages[0];
  } else if (fatalProducerError(error)?.endsWith("_AUTHORIZATION_FAILED")) {
    text = `the broker denied the producer (${
      fatalProducerError(error)
    }); grant the service's user Write and Describe on topic ${config.kafka.topic} (see the README's Kafka ACLs)`;
  } else if (/SASL|[Aa]uthentication/.test(name + all)) {
    text = `the broker refused the SASL login (${
      messages.at(-1)
    }); check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM`;
  } else if (/certificate|self[- ]signed|SSL|TLS|UnknownIssuer|handshake/i.test(all)) {
    text = `the TLS handshake with the broker failed (${
      messages.at(-1)
    }); check KAFKA_SSL and KAFKA_SSL_CA_FILE`;
  } else if (/ECONNREFUSED|Connection|connect|ENOTFOUND|timeout|Closed connection/i.test(all)) {
    text = `cannot reach KAFKA_BROKERS=${config.kafka.brokers.join(",")} (${
      messages.at(-1)
    }); check that the brokers run and are reachable`;
  } else {
    text = all || String(error);
  }
  const password = config.kafka.sasl?.password;
  return password ? text.replaceAll(password, "***") : text;
}
