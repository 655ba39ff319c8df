// A raw nats.js connection holding a credential, for showing what the
// server refuses it. Every refusal comes back as the server's own
// PermissionViolationError: a refused request rejects with it, a refused
// subscription closes with it, and a refused publish shows it on the
// connection's status (nothing else tells a publisher). The server sends a
// refusal as it meets the operation; the helpers wait for it (with a deadline).

import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, PermissionViolationError, type NatsConnection, type Payload, type SubscriptionOptions } from "@nats-io/nats-core";
import { credentialsFrom } from "../../auth/credentials.js";
import { inboxPrefixOf } from "../../connection.js";
import { waitFor } from "../wait.js";

/** A raw connection and the permission errors the server sent it. */
export interface Attacker {
  readonly nc: NatsConnection;
  /** Every permission error seen on the connection's status, in order. */
  readonly violations: PermissionViolationError[];
  /** Publish and resolve with the server's refusal; rejects when none comes within `timeoutMs`. */
  publish(subject: string, data?: Payload, timeoutMs?: number): Promise<PermissionViolationError>;
  /** Subscribe and resolve with the server's refusal (the subscription closes with it); rejects when none comes within `timeoutMs`. */
  subscribe(subject: string, opts?: SubscriptionOptions, timeoutMs?: number): Promise<PermissionViolationError>;
  /** Request; resolves with the error the request failed with, or the reply's data. */
  request(subject: string, data?: Payload, timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Connect to `url` with the `.creds` file at `credsPath` (its user's inbox prefix, as
 * a credential may read only its own inboxes).
 */
export async function connectAttacker(url: string, credsPath: string, name = "attacker"): Promise<Attacker> {
  const bytes = readFileSync(credsPath);
  const creds = await credentialsFrom(bytes, credsPath);
  const nc = await connect({ servers: url, name, authenticator: credsAuthenticator(bytes), inboxPrefix: inboxPrefixOf(creds), maxReconnectAttempts: 0 });
  const violations = watchViolations(nc);
  return {
    nc,
    violations,
    async publish(subject, data, timeoutMs = 5000) {
      const from = violations.length;
      nc.publish(subject, data);
      return waitFor(
        () => violations.slice(from).find((v) => v.operation === "publish" && v.subject === subject),
        `the server to refuse publishing to ${subject}`,
        timeoutMs,
      );
    },
    async subscribe(subject, opts, timeoutMs = 5000) {
      const sub = nc.subscribe(subject, opts);
      let closedWith: unknown;
      void sub.closed.then((e) => (closedWith = e));
      try {
        return await waitFor(() => (closedWith instanceof PermissionViolationError ? closedWith : undefined), `the server to refuse subscribing to ${subject}`, timeoutMs);
      } finally {
        sub.unsubscribe();
      }
    },
    async request(subject, data, timeoutMs = 3000) {
      try {
        return (await nc.request(subject, data, { timeout: timeoutMs })).data;
      } catch (err) {
        return err;
      }
    },
    async close() {
      await nc.close();
    },
  };
}

/** The permission errors a connection's status reports from now on, collected in a list. */
export function watchViolations(nc: NatsConnection): PermissionViolationError[] {
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error instanceof PermissionViolationError) violations.push(s.error);
    }
  })();
  return violations;
}
