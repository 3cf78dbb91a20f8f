/**
 * A patch of kafkajs 2.2.4's transactional commit, applied once at start-up.
 *
 * kafkajs sends `EndTxn(COMMIT)` once. When the transaction coordinator dies
 * or moves while that request is on the wire, the commit fails and nobody can
 * say whether it landed; a batch then sent again in a new session appears
 * twice if it did. Kafka's coordinator answers a repeated `EndTxn(COMMIT)` of
 * the same producer id and epoch idempotently, as the Java producer relies on:
 * it commits a transaction still ongoing, answers CONCURRENT_TRANSACTIONS
 * while the commit's markers are being written, and NONE once the commit is
 * complete. A fenced or timed-out transaction answers INVALID_PRODUCER_EPOCH
 * (or PRODUCER_FENCED), which is final.
 *
 * So the patch finds the transaction coordinator again and repeats the
 * commit, in the same epoch, until it gets an answer that settles it (or
 * {@link COMMIT_REPEAT_MS} has passed). kafkajs's eosManager asks the
 * cluster for the coordinator just before it sends EndTxn; the patched
 * lookup hands it a broker whose `endTxn` does the repeating.
 *
 * @module
 */

import Cluster from "kafkajs/src/cluster/index.js";
import createEosManager from "kafkajs/src/producer/eosManager/index.js";
import { getLogger } from "@logtape/logtape";
import { causeChain } from "../util/errors.ts";
import { backoffDelay, sleep } from "../util/retry.ts";

const log = getLogger(["datagen", "kafka"]);

/** FindCoordinator's key type of a transaction coordinator. */
const TRANSACTION = 1;

/** How long a commit whose outcome is unknown is repeated before the error is passed on. */
export const COMMIT_REPEAT_MS = 25_000;

/** The request kafkajs's eosManager sends to end a transaction. */
export interface EndTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  transactionResult: boolean;
}

/** The parts of a kafkajs broker the patch uses. */
interface BrokerShape {
  endTxn(request: EndTxnRequest): Promise<unknown>;
}

/** The lookup the patch wraps. */
type FindCoordinator = (
  this: unknown,
  request: { groupId: string; coordinatorType?: number },
) => Promise<BrokerShape>;

/** Errors after which the commit may or may not have landed, or may land on a repeat. */
const UNSETTLED_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSLockTimeout",
]);
/** kafkajs's names of NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE and COORDINATOR_LOAD_IN_PROGRESS. */
const UNSETTLED_TYPES = new Set([
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "GROUP_LOAD_IN_PROGRESS",
  "CONCURRENT_TRANSACTIONS",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
]);
/** Answers that settle the transaction: it was fenced or timed out, and is not committed. */
const SETTLED_TYPES = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);

/** Whether an error of EndTxn(COMMIT) leaves its outcome open, so that a repeat may settle it. */
export function commitUnsettled(error: unknown): boolean {
  const chain = causeChain(error);
  if (chain.some((e) => SETTLED_TYPES.has(String(e.type)))) return false;
  return chain.some((e) =>
    UNSETTLED_NAMES.has(String(e.name)) || UNSETTLED_TYPES.has(String(e.type))
  );
}

/** A commit whose outcome stayed unknown after {@link COMMIT_REPEAT_MS} of repeats. */
export class CommitOutcomeUnknown extends Error {
  constructor(cause: unknown, attempts: number) {
    super(
      `the commit's outcome is unknown after ${attempts} attempts (${(cause as Error)?.message})`,
      { cause },
    );
    this.name = "CommitOutcomeUnknown";
  }
}

/** Edges of {@link repeatCommit}, for tests. */
export interface RepeatOptions {
  repeatMs?: number;
  baseMs?: number;
  capMs?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Sends `request` (an EndTxn) to `coordinator`; a commit whose outcome is
 * unknown is sent again, same producer id and epoch, to the coordinator that
 * `find` returns then, until an answer settles it.
 */
export async function repeatCommit(
  coordinator: BrokerShape,
  request: EndTxnRequest,
  find: () => Promise<BrokerShape>,
  options: RepeatOptions = {},
): Promise<unknown> {
  if (!request.transactionResult) return await coordinator.endTxn(request);
  const now = options.now ?? Date.now;
  const started = now();
  const wait = {
    baseMs: options.baseMs ?? 300,
    capMs: options.capMs ?? 3000,
    random: options.random ?? Math.random,
  };
  let current: BrokerShape | null = coordinator;
  for (let attempt = 1;; attempt++) {
    try {
      current ??= await find();
      const answer = await current.endTxn(request);
      if (attempt > 1) {
        log.info(
          "The repeated commit of transaction {transactionalId} (producer {producerId}, epoch {producerEpoch}) is settled: committed once",
          { ...request, attempts: attempt },
        );
      }
      return answer;
    } catch (error) {
      if (!commitUnsettled(error)) throw error;
      if (now() - started >= (options.repeatMs ?? COMMIT_REPEAT_MS)) {
        throw new CommitOutcomeUnknown(error, attempt);
      }
      const waitMs = Math.max(50, backoffDelay(attempt, wait));
      log.warn(
        "The commit's outcome is unknown ({error}); finding the transaction coordinator again and repeating the commit in the same epoch in {waitMs} ms (attempt {attempt})",
        { error: (error as Error).message, waitMs, attempt: attempt + 1 },
      );
      current = null;
      await sleep(waitMs);
    }
  }
}

const PATCHED = Symbol.for("twitch-datagen.kafkajs-commit-patch");

/** The code the patch relies on, as kafkajs 2.2.4 spells it. */
const EXPECTED: readonly { where: string; source: () => string; pattern: RegExp }[] = [
  {
    where: "Cluster.findGroupCoordinator",
    source: () => String(Cluster.prototype.findGroupCoordinator),
    pattern: /coordinatorType[\s\S]*findBroker\(\{ nodeId: coordinator\.nodeId \}\)/,
  },
  {
    where: "eosManager's findTransactionCoordinator",
    source: () => String(createEosManager),
    pattern:
      /cluster\.findGroupCoordinator\(\{\s*groupId: transactionalId,\s*coordinatorType: COORDINATOR_TYPES\.TRANSACTION/,
  },
  {
    where: "eosManager's commit",
    source: () => String(createEosManager),
    pattern:
      /async commit\(\)[\s\S]*?const broker = await findTransactionCoordinator\(\)\s*await broker\.endTxn\(\{\s*producerId,\s*producerEpoch,\s*transactionalId,\s*transactionResult: true,/,
  },
];

/**
 * Makes kafkajs repeat a commit whose outcome is unknown (see the module's
 * comment). Idempotent.
 *
 * @throws {Error} when kafkajs no longer has the shape the patch expects (a
 * kafkajs upgrade): the patch must then be reviewed, not applied blindly.
 */
export function patchKafkajsCommit(): void {
  const prototype = Cluster.prototype as {
    findGroupCoordinator: FindCoordinator;
    [PATCHED]?: boolean;
  };
  if (prototype[PATCHED]) return;
  const missing = EXPECTED.filter((e) => !e.pattern.test(e.source())).map((e) => e.where);
  if (missing.length > 0) {
    throw new Error(
      `kafkajs's transactional commit changed shape (${
        missing.join(", ")
      }); review src/kafka/kafkajs_commit_patch.ts against the installed kafkajs`,
    );
  }
  const original = prototype.findGroupCoordinator;
  prototype.findGroupCoordinator = async function (this: unknown, request) {
    const broker = await original.call(this, request);
    if (request.coordinatorType !== TRANSACTION) return broker;
    const find = () => original.call(this, request);
    return new Proxy(broker, {
      get(target, property) {
        if (property === "endTxn") {
          return (endTxn: EndTxnRequest) => repeatCommit(target, endTxn, find);
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  prototype[PATCHED] = true;
}

/** Whether {@link patchKafkajsCommit} is in effect (for tests). */
export function _kafkajsCommitPatched(): boolean {
  return (Cluster.prototype as { [PATCHED]?: boolean })[PATCHED] === true;
}

/** kafkajs's eosManager factory, for tests of the patch. */
export const _createEosManager: (options: Record<string, unknown>) => {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topicData: unknown[]): Promise<void>;
  commit(): Promise<void>;
  getProducerId(): number;
  getProducerEpoch(): number;
} = createEosManager as never;

/** kafkajs's Cluster class, for tests of the patch. */
export const _Cluster: { prototype: object } = Cluster as never;
