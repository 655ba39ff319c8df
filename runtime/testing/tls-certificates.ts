// Certificates for a TLS test server, made in the test itself: a throwaway
// certificate authority, a server certificate for 127.0.0.1 and localhost,
// and a client certificate (for servers that verify clients), all signed by
// that CA and written as PEM files into a directory. Keys come from Node's
// own crypto; node-forge (a development dependency, loaded only when a test
// asks for TLS) builds and signs the X.509 certificates, so no openssl binary
// is needed.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { pki } from "node-forge";

/** A certificate and its private key, as paths of PEM files. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** The PEM files {@link makeTestCertificates} wrote. */
export interface TestCertificates {
  /** The CA's certificate: what a client passes as `tls: { ca }` to trust the server. */
  readonly ca: string;
  /** The server's certificate (for 127.0.0.1, ::1 and localhost) and key. */
  readonly server: CertificateFiles;
  /** A client certificate and key signed by the same CA, for servers that verify clients. */
  readonly client: CertificateFiles;
}

type Forge = typeof import("node-forge");

async function loadForge(): Promise<Forge> {
  try {
    const mod = (await import("node-forge")) as Forge & { default?: Forge };
    return mod.default ?? mod;
  } catch (err) {
    throw new Error("a TLS test server needs the node-forge package to make its certificates: npm install --save-dev node-forge", {
      cause: err,
    });
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A fresh RSA key pair from Node's crypto (fast, native), in forge's form. */
function keyPair(forge: Forge): { privateKey: pki.rsa.PrivateKey; publicKey: pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

/**
 * Make a CA, a server certificate and a client certificate in `dir`
 * (`ca.pem`, `server-cert.pem`, `server-key.pem`, `client-cert.pem`,
 * `client-key.pem`), valid from a day ago for a year.
 *
 * @example
 * const certs = await makeTestCertificates(dir);
 * // nats-server --tls --tlscert certs.server.cert --tlskey certs.server.key
 * await connectClient({ servers, tls: { ca: certs.ca } });
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const forge = await loadForge();
  const now = Date.now();
  const validity = (cert: pki.Certificate): void => {
    cert.serialNumber = `01${randomBytes(8).toString("hex")}`;
    cert.validity.notBefore = new Date(now - DAY_MS);
    cert.validity.notAfter = new Date(now + 365 * DAY_MS);
  };

  const caKeys = keyPair(forge);
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  validity(ca);
  const caName = [{ name: "commonName", value: "Troupe test CA" }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const leaf = (commonName: string, extensions: object[]): { cert: string; key: string } => {
    const keys = keyPair(forge);
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    validity(cert);
    cert.setSubject([{ name: "commonName", value: commonName }]);
    cert.setIssuer(ca.subject.attributes);
    cert.setExtensions([
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "authorityKeyIdentifier", keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
      ...extensions,
    ]);
    cert.sign(caKeys.privateKey, forge.md.sha256.create());
    return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
  };

  const server = leaf("127.0.0.1", [
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: "127.0.0.1" },
        { type: 7, ip: "::1" },
        { type: 2, value: "localhost" },
      ],
    },
  ]);
  const client = leaf("troupe-test-client", [{ name: "extKeyUsage", clientAuth: true }]);

  const files = {
    ca: join(dir, "ca.pem"),
    server: { cert: join(dir, "server-cert.pem"), key: join(dir, "server-key.pem") },
    client: { cert: join(dir, "client-cert.pem"), key: join(dir, "client-key.pem") },
  } as const;
  await writeFile(files.ca, forge.pki.certificateToPem(ca));
  await writeFile(files.server.cert, server.cert);
  await writeFile(files.server.key, server.key, { mode: 0o600 });
  await writeFile(files.client.cert, client.cert);
  await writeFile(files.client.key, client.key, { mode: 0o600 });
  return files;
}
