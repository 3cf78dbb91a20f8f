import assert from "node:assert/strict";
import kafkajsErrors from "kafkajs/src/errors.js";
import {
  _Cluster,
  _createEosManager,
  _kafkajsCommitPatched,
  CommitOutcomeUnknown,
  commitUnsettled,
  type EndTxnRequest,
  patchKafkajsCommit,
  repeatCommit,
} from "./kafkajs_commit_patch.ts";

const { KafkaJSConnectionError, KafkaJSProtocolError } = kafkajsErrors as unknown as {
  KafkaJSConnectionError: new (message: string, options: { broker: string }) => Error;
  KafkaJSProtocolError: new (e: object) => Error;
};

function protocolError(type: string) {
  return new KafkaJSProtocolError({ type, code: 1, retriable: false, message: type } as never);
}

function connectionLost() {
  return new KafkaJSConnectionError("Connection error: ECONNREFUSED", { broker: "b1:9092" });
}

const logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A transaction coordinator as Kafka runs it, reduced to one transaction:
 * EndTxn(COMMIT) commits an ongoing transaction, is answered
 * CONCURRENT_TRANSACTIONS while the markers are written, NONE once complete,
 * and INVALID_PRODUCER_EPOCH for another epoch.
 */
class Coordinators {
  state: "ongoing" | "prepare-commit" | "complete-commit" | "aborted" = "ongoing";
  epoch = 3;
  commits = 0;
  requests: { node: number; request: EndTxnRequest }[] = [];
  /** The node that is coordinator now. */
  node = 1;
  /** Runs before a node handles EndTxn; may throw what the wire would. */
  fault: (node: number, call: number) => void = () => {};

  broker(node: number) {
    return {
      initProducerId: () => Promise.resolve({ producerId: 7, producerEpoch: this.epoch }),
      addPartitionsToTxn: () => Promise.resolve({}),
      endTxn: (request: EndTxnRequest) => {
        this.requests.push({ node, request });
        try {
          this.fault(node, this.requests.length);
        } catch (error) {
          return Promise.reject(error);
        }
        if (node !== this.node) return Promise.reject(protocolError("NOT_COORDINATOR_FOR_GROUP"));
        if (request.producerEpoch !== this.epoch) {
          return Promise.reject(protocolError("INVALID_PRODUCER_EPOCH"));
        }
        if (this.state === "prepare-commit") {
          this.state = "complete-commit";
          return Promise.reject(protocolError("CONCURRENT_TRANSACTIONS"));
        }
        if (this.state === "ongoing") {
          this.state = "complete-commit";
          this.commits++;
        }
        return Promise.resolve({});
      },
    };
  }

  /** A cluster of kafkajs's own Cluster class, its network replaced by these coordinators. */
  cluster() {
    const brokers = new Map([1, 2, 3].map((n) => [n, this.broker(n)]));
    return Object.assign(Object.create(_Cluster.prototype), {
      retry: { retries: 0 },
      logger,
      retrier: async (fn: (bail: (e: unknown) => void, n: number, t: number) => unknown) => {
        let bailed: unknown = null;
        const result = await fn((e) => (bailed = e), 0, 0);
        if (bailed !== null) throw bailed;
        return result;
      },
      refreshMetadataIfNecessary: () => Promise.resolve(),
      refreshMetadata: () => Promise.resolve(),
      findGroupCoordinatorMetadata: () => Promise.resolve({ coordinator: { nodeId: this.node } }),
      findBroker: ({ nodeId }: { nodeId: number }) => Promise.resolve(brokers.get(nodeId)),
    });
  }
}

/** kafkajs's own transaction manager, begun and with one partition in the transaction. */
async function transaction(coordinators: Coordinators) {
  const eos = _createEosManager({
    logger,
    cluster: coordinators.cluster(),
    transactional: true,
    transactionalId: "twitch-datagen.t",
  });
  await eos.initProducerId();
  eos.beginTransaction();
  await eos.addPartitionsToTransaction([{ topic: "t", partitions: [{ partition: 0 }] }]);
  return eos;
}

const fast = { baseMs: 1, capMs: 1, random: () => 0 };

Deno.test("kafkajs 2.2.4 has the shape the commit patch relies on", () => {
  patchKafkajsCommit();
  patchKafkajsCommit(); // idempotent
  assert.equal(_kafkajsCommitPatched(), true);
});

Deno.test("a commit cut off after PrepareCommit is repeated at the new coordinator in the same epoch, and commits once", async () => {
  patchKafkajsCommit();
  const coordinators = new Coordinators();
  coordinators.fault = (node, call) => {
    if (node === 1 && call === 1) {
      coordinators.state = "prepare-commit";
      coordinators.node = 2;
      throw connectionLost();
    }
  };
  const eos = await transaction(coordinators);
  await eos.commit();
  assert.deepEqual(
    coordinators.requests.map((r) => [r.node, r.request.producerId, r.request.producerEpoch]),
    [[1, 7, 3], [2, 7, 3], [2, 7, 3]],
    "the old coordinator, then the new one: CONCURRENT_TRANSACTIONS, then NONE",
  );
  assert.equal(coordinators.state, "complete-commit");
});

Deno.test("a commit lost before the coordinator saw it is repeated and commits the ongoing transaction", async () => {
  patchKafkajsCommit();
  const coordinators = new Coordinators();
  coordinators.fault = (_node, call) => {
    if (call === 1) {
      coordinators.node = 3;
      throw connectionLost();
    }
  };
  const eos = await transaction(coordinators);
  await eos.commit();
  assert.equal(coordinators.commits, 1);
  assert.deepEqual(coordinators.requests.map((r) => r.node), [1, 3]);
});

Deno.test("INVALID_PRODUCER_EPOCH settles the commit: fenced or timed out, never repeated", async () => {
  patchKafkajsCommit();
  const coordinators = new Coordinators();
  const eos = await transaction(coordinators);
  coordinators.epoch = 4; // a new session, or the coordinator's abort on timeout
  await assert.rejects(eos.commit(), /INVALID_PRODUCER_EPOCH/);
  assert.equal(coordinators.requests.length, 1);
  assert.equal(coordinators.commits, 0);
});

Deno.test("an abort is sent once, as kafkajs does", async () => {
  const coordinators = new Coordinators();
  coordinators.fault = () => {
    throw connectionLost();
  };
  const request = {
    transactionalId: "x",
    producerId: 7,
    producerEpoch: 3,
    transactionResult: false,
  };
  let finds = 0;
  await assert.rejects(
    repeatCommit(coordinators.broker(1), request, () => {
      finds++;
      return Promise.resolve(coordinators.broker(2));
    }, fast),
    /ECONNREFUSED/,
  );
  assert.equal(finds, 0);
});

Deno.test("a coordinator away for longer than the repeat window ends in an unknown outcome", async () => {
  const coordinators = new Coordinators();
  coordinators.fault = () => {
    throw connectionLost();
  };
  let clock = 0;
  const request = {
    transactionalId: "x",
    producerId: 7,
    producerEpoch: 3,
    transactionResult: true,
  };
  const error = await repeatCommit(coordinators.broker(1), request, () => {
    clock += 10_000;
    return Promise.resolve(coordinators.broker(1));
  }, { ...fast, repeatMs: 25_000, now: () => clock }).catch((e) => e);
  assert.ok(error instanceof CommitOutcomeUnknown);
  assert.equal(coordinators.requests.length, 4, "at 0, 10, 20 and 30 s");
});

Deno.test("which commit errors leave the outcome open", () => {
  assert.equal(commitUnsettled(connectionLost()), true);
  assert.equal(commitUnsettled(protocolError("NOT_COORDINATOR_FOR_GROUP")), true);
  assert.equal(commitUnsettled(protocolError("CONCURRENT_TRANSACTIONS")), true);
  assert.equal(commitUnsettled(protocolError("GROUP_LOAD_IN_PROGRESS")), true);
  assert.equal(commitUnsettled(protocolError("INVALID_PRODUCER_EPOCH")), false);
  assert.equal(commitUnsettled(protocolError("PRODUCER_FENCED")), false);
  assert.equal(commitUnsettled(protocolError("TRANSACTIONAL_ID_AUTHORIZATION_FAILED")), false);
});
