/**
 * The settings file and format-time arguments of a local Kafka broker (KRaft,
 * broker and controller in one process, alone or as one node of a small
 * cluster), as plain text built from plain data, so the shape of the broker
 * can be checked without starting it.
 *
 * @module
 */

/** A user that can log in on the broker's SASL listener. */
export interface KafkaUser {
  /** Letters, digits and `._@+-` only: the name ends up in JAAS and StorageTool syntax. */
  username: string;
  /** Same characters as the name, for the same reason. */
  password: string;
}

/** Where and how the broker listens, and where it keeps its data. */
export interface BrokerSettings {
  /** Client port of the PLAINTEXT listener on 127.0.0.1. */
  port: number;
  /** Port of the KRaft controller listener on 127.0.0.1. */
  controllerPort: number;
  /** Folder holding the topic data and the metadata log. */
  logDir: string;
  /** `false` turns off creating topics on first use (Kafka's default is on). */
  autoCreateTopics?: boolean;
  /** Adds a SASL_PLAINTEXT listener accepting PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  sasl?: { port: number; users: KafkaUser[] };
  /** Adds an SSL listener serving the key and certificate in a PKCS12 keystore. */
  ssl?: { port: number; keystoreFile: string; password: string };
  /** Turns on ACLs ({@linkcode authorizerProperties}); these principals may do anything. */
  authorizer?: { superUsers: string[] };
  /** Makes the broker one node of a cluster (default: a cluster of one, node 1). */
  cluster?: ClusterSettings;
}

/** The place of one node in a cluster whose nodes are all brokers and controllers. */
export interface ClusterSettings {
  /** This node's id, 1 to the number of nodes. */
  nodeId: number;
  /** Controller port of every node, node 1's first; this node's entry is its `controllerPort`. */
  controllerPorts: readonly number[];
}

/** SASL mechanisms the SASL listener accepts, in the order Kafka is told. */
export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

const HOST = "127.0.0.1";
const SAFE_CREDENTIAL = /^[A-Za-z0-9._@+-]+$/;

/**
 * Throws when a user's name or password holds characters that the broker's
 * JAAS and StorageTool syntax would need quoting for.
 */
export function checkUsers(users: readonly KafkaUser[]): void {
  for (const { username, password } of users) {
    for (const [what, text] of [["username", username], ["password", password]]) {
      if (!SAFE_CREDENTIAL.test(text)) {
        throw new TypeError(
          `Kafka test user ${what} ${
            JSON.stringify(text)
          } is not allowed; use letters, digits and ._@+- only`,
        );
      }
    }
  }
}

/** Escapes a value for a Java properties file (backslashes and line breaks). */
function propertyValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r");
}

/** The broker's `server.properties` text for the given settings. */
export function brokerProperties(settings: BrokerSettings): string {
  const nodeId = settings.cluster?.nodeId ?? 1;
  const controllerPorts = settings.cluster?.controllerPorts ?? [settings.controllerPort];
  if (controllerPorts[nodeId - 1] !== settings.controllerPort) {
    throw new RangeError(
      `Node ${nodeId}'s controller port ${settings.controllerPort} is not entry ${nodeId} of the cluster's controller ports; list the ports by node id`,
    );
  }
  const voters = controllerPorts.map((port, i) => `${i + 1}@${HOST}:${port}`).join(",");
  const replicas = controllerPorts.length;
  // With three or more copies, writes with acks=all go on while one node is down.
  const minIsr = replicas >= 3 ? 2 : 1;
  const listeners = [`PLAINTEXT://${HOST}:${settings.port}`];
  if (settings.sasl) listeners.push(`SASL_PLAINTEXT://${HOST}:${settings.sasl.port}`);
  if (settings.ssl) listeners.push(`SSL://${HOST}:${settings.ssl.port}`);

  const props: [string, string][] = [
    ["process.roles", "broker,controller"],
    ["node.id", String(nodeId)],
    ["controller.quorum.voters", voters],
    ["listeners", [...listeners, `CONTROLLER://${HOST}:${settings.controllerPort}`].join(",")],
    ["advertised.listeners", listeners.join(",")],
    ["controller.listener.names", "CONTROLLER"],
    [
      "listener.security.protocol.map",
      "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
    ],
    ["inter.broker.listener.name", "PLAINTEXT"],
    ["log.dirs", settings.logDir],
    // Every topic, internal ones too, keeps a copy on each node (one node: one copy).
    ["default.replication.factor", String(replicas)],
    ["min.insync.replicas", String(minIsr)],
    ["offsets.topic.replication.factor", String(replicas)],
    ["offsets.topic.num.partitions", "1"],
    ["transaction.state.log.replication.factor", String(replicas)],
    ["transaction.state.log.min.isr", String(minIsr)],
    ["transaction.state.log.num.partitions", "1"],
    ["share.coordinator.state.topic.replication.factor", String(replicas)],
    ["share.coordinator.state.topic.min.isr", String(minIsr)],
    // Never elect a replica that may lack acknowledged records (Kafka's default, said aloud).
    ["unclean.leader.election.enable", "false"],
    // Consumers in tests should get their partitions at once, not after 3 s.
    ["group.initial.rebalance.delay.ms", "0"],
    // How soon the controller notices a killed node: broker.session.timeout.ms
    // (default 9 s) without a heartbeat fences it, which moves the leadership of
    // its partitions to another in-sync replica and lets a restarted node
    // register again. broker.heartbeat.interval.ms (default 2 s) must stay well
    // below it.
    ["broker.session.timeout.ms", "3000"],
    ["broker.heartbeat.interval.ms", "500"],
    // A small machine: fewer threads start faster and use less memory.
    ["num.network.threads", "2"],
    ["num.io.threads", "2"],
    ["num.recovery.threads.per.data.dir", "1"],
  ];
  if (settings.autoCreateTopics === false) props.push(["auto.create.topics.enable", "false"]);

  if (settings.sasl) {
    checkUsers(settings.sasl.users);
    const plainUsers = settings.sasl.users.map((u) => `user_${u.username}="${u.password}"`);
    props.push(
      ["sasl.enabled.mechanisms", SASL_MECHANISMS.join(",")],
      [
        "listener.name.sasl_plaintext.plain.sasl.jaas.config",
        `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers.join(" ")};`,
      ],
      [
        "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      ],
      [
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
      ],
    );
  }

  if (settings.ssl) {
    props.push(
      ["listener.name.ssl.ssl.keystore.type", "PKCS12"],
      ["listener.name.ssl.ssl.keystore.location", settings.ssl.keystoreFile],
      ["listener.name.ssl.ssl.keystore.password", settings.ssl.password],
      ["listener.name.ssl.ssl.key.password", settings.ssl.password],
    );
  }

  let text = props.map(([key, value]) => `${key}=${propertyValue(value)}\n`).join("");
  if (settings.authorizer) text += authorizerProperties(settings.authorizer.superUsers);
  return text;
}

/**
 * The settings lines that make a KRaft broker check ACLs. The PLAINTEXT and
 * CONTROLLER listeners authenticate no one, so their principal, `User:ANONYMOUS`,
 * is always a super user: otherwise the node could not talk to itself, and the
 * PLAINTEXT listener stays the administrator's way in. Everyone else needs ACLs.
 */
export function authorizerProperties(superUsers: readonly string[]): string {
  const principals = ["User:ANONYMOUS", ...superUsers.filter((u) => u !== "User:ANONYMOUS")];
  for (const principal of principals) {
    if (!/^User:[A-Za-z0-9._@+-]+$/.test(principal)) {
      throw new TypeError(`Kafka super user ${JSON.stringify(principal)} is not User:<name>`);
    }
  }
  return [
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    `super.users=${principals.join(";")}`,
    "allow.everyone.if.no.acl.found=false",
  ].map((line) => `${line}\n`).join("");
}

/**
 * The `--add-scram` arguments of `kafka.tools.StorageTool format` that store
 * every user under both SCRAM mechanisms, since SCRAM credentials live in the
 * cluster metadata rather than in the settings file.
 */
export function scramFormatArgs(users: readonly KafkaUser[]): string[] {
  checkUsers(users);
  return users.flatMap((user) =>
    ["SCRAM-SHA-256", "SCRAM-SHA-512"].flatMap((mechanism) => [
      "--add-scram",
      `${mechanism}=[name=${user.username},password=${user.password}]`,
    ])
  );
}

/** A random cluster id in Kafka's form: 16 bytes, URL-safe base64 without padding. */
export function newClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    // An id starting with "-" would be read as a flag by StorageTool.
    if (!id.startsWith("-")) return id;
  }
}
