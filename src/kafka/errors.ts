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
