// The second raw request/reply baseline: correlation done by hand, as a
// throughput-minded nats.js user (and Troupe itself) does it. One wildcard
// subscription `_INBOX.<id>.*` for every reply, a Map from token to the
// waiting request, and no per-request timer or Error: what `nc.request`
// builds per call is left out. The inbox is under the connection's own inbox
// prefix (a credential may read only its own inboxes).

import { createInbox, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { connectionInboxPrefix } from "../../runtime/connection.js";

interface Waiting {
  resolve(data: Uint8Array): void;
  reject(err: Error): void;
}

/**
 * Requests whose replies come back to one inbox subscription. An entry of the
 * map is removed by its reply, or by `close()`, which rejects every request
 * still waiting; with no timer per request, a reply that never comes waits
 * until then.
 *
 * @example
 * const inbox = new OwnInbox(nc);
 * const reply = await inbox.request("svc.echo", encode(msg));
 * inbox.close();
 */
export class OwnInbox {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #sub: Subscription;
  readonly #waiting = new Map<string, Waiting>();
  #next = 0;
  #closed = false;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#prefix = `${createInbox(connectionInboxPrefix(nc))}.`;
    this.#sub = nc.subscribe(`${this.#prefix}*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(this.#prefix.length);
        const w = this.#waiting.get(token);
        if (w === undefined) return;
        this.#waiting.delete(token);
        w.resolve(msg.data);
      },
    });
  }

  /** Requests waiting for their reply. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** Publish `data` to `subject` with a reply subject of this inbox; resolves with the reply's data. */
  request(subject: string, data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error("the inbox is closed"));
    const token = (this.#next++).toString(36);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(token, { resolve, reject });
      try {
        this.#nc.publish(subject, data, { reply: this.#prefix + token });
      } catch (err) {
        this.#waiting.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Stop listening; every request still waiting is rejected with `reason`. */
  close(reason: Error = new Error("the inbox is closed")): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sub.unsubscribe();
    for (const w of this.#waiting.values()) w.reject(reason);
    this.#waiting.clear();
  }
}
