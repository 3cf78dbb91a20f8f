/**
 * A throwaway certificate authority and broker certificate for the local
 * broker's SSL listener, made with the JDK's `keytool` (already needed for
 * the broker itself, unlike openssl's various versions).
 *
 * @module
 */

/** Files of a broker certificate signed by a fresh local CA. */
export interface BrokerTls {
  /** PKCS12 keystore with the broker's key and certificate chain. */
  keystoreFile: string;
  /** Password of the keystore and of the key in it. */
  password: string;
  /** The CA certificate in PEM form: what clients trust to reach the broker. */
  caFile: string;
}

/**
 * Makes a CA and a broker certificate for `localhost` and `127.0.0.1` in
 * `dir`, valid for ten years (they live only as long as the broker's folder).
 */
export async function makeBrokerTls(dir: string): Promise<BrokerTls> {
  await Deno.mkdir(dir, { recursive: true });
  const password = Array.from(
    crypto.getRandomValues(new Uint8Array(12)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const caFile = `${dir}/ca.pem`;
  const keystoreFile = `${dir}/broker.p12`;
  const store = ["-keystore", keystoreFile, "-storetype", "PKCS12", "-storepass", password];
  // EC keys are made in milliseconds, RSA keys can take a second each.
  const key = ["-keyalg", "EC", "-groupname", "secp256r1", "-validity", "3650"];

  await keytool([
    "-genkeypair",
    "-alias",
    "ca",
    "-dname",
    "CN=local-kafka-test-ca",
    "-ext",
    "bc:c",
    "-ext",
    "KU=keyCertSign,cRLSign",
    ...key,
    ...store,
  ]);
  // -signer puts the CA's certificate into the broker's chain as well.
  await keytool([
    "-genkeypair",
    "-alias",
    "broker",
    "-dname",
    "CN=localhost",
    "-signer",
    "ca",
    "-ext",
    "SAN=dns:localhost,ip:127.0.0.1",
    "-ext",
    "KU=digitalSignature",
    "-ext",
    "EKU=serverAuth",
    ...key,
    ...store,
  ]);
  await keytool(["-exportcert", "-rfc", "-alias", "ca", "-file", caFile, ...store]);
  // Only the broker's key may stay: the broker would serve any key entry it finds.
  await keytool(["-delete", "-alias", "ca", ...store]);
  return { keystoreFile, password, caFile };
}

/** The JDK tool `name` from JAVA_HOME when set, else from PATH. */
export function jdkTool(name: string): string {
  const home = Deno.env.get("JAVA_HOME");
  return home ? `${home}/bin/${name}` : name;
}

async function keytool(args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    // Each call is a short JVM run: skip the optimising compiler and perf files.
    const jvm = ["-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-XX:-UsePerfData"];
    output = await new Deno.Command(jdkTool("keytool"), { args: [...jvm, ...args], stdin: "null" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("keytool (part of Java 17+) is needed for the SSL listener; install a JDK");
    }
    throw error;
  }
  if (!output.success) {
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    throw new Error(`keytool ${args[0]} failed: ${text.trim().split("\n")[0]}`);
  }
}
