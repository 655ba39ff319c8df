// Deleting many entries of one KV bucket at once, each with compare-and-set
// on its revision: every delete is a JetStream publish sent through a
// Requester (one inbox subscription, one deadline timer for all), and
// answered by its ack. nats.js's `kv.delete` makes a request of each (its
// own timer, token and error objects), some 70 µs of CPU apiece; a node that
// closes with 100,000 agents releases 100,000 registry claims, so the
// difference is seconds.

import { Empty, headers, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { PubHeaders } from "@nats-io/jetstream";
import type { Bucket } from "@nats-io/kv";
import type { Clock } from "./clock.js";
import { PendingAsk, Requester } from "./requester.js";

/** The KV protocol's header naming the operation of a marker (ADR-8): a delete is `DEL`. */
const KV_OPERATION = "KV-Operation";

/** Deletes of one bucket's entries, many in flight on one reply subscription. */
export class PipelinedDeletes {
  /** Made at the first delete (its inbox subscription lives as long as the connection). */
  private requester: Requester | undefined;
  /** Deletes waiting for their ack. */
  inFlight = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: Bucket,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** Stop: deletes still waiting are answered false, and the inbox subscription goes. */
  close(): void {
    this.closed = true;
    this.requester?.close(new Error("closed"));
    this.requester = undefined;
  }

  /**
   * Delete `key` if its last revision is still `revision`. Resolves true
   * once JetStream stored the delete; false when it refused it (the entry
   * changed since), did not answer within the timeout, or the connection
   * could not send it. Never rejects.
   */
  delete(key: string, revision: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.inFlight++;
      const ack = new DeleteAck((ok) => {
        this.inFlight--;
        resolve(ok);
      });
      try {
        if (this.closed) throw new Error("closed");
        this.requester ??= new Requester(this.nc, this.clock);
        const h = headers();
        h.set(KV_OPERATION, "DEL");
        h.set(PubHeaders.ExpectedLastSubjectSequenceHdr, String(revision));
        this.requester.requestWithHeaders(this.kv.subjectForKey(this.kv.encodeKey(key), true), Empty, h, this.timeoutMs, ack);
      } catch {
        ack.abort();
      }
    });
  }
}

/** One delete waiting for JetStream's ack: answered once, true only when stored. */
class DeleteAck extends PendingAsk {
  constructor(private done: ((stored: boolean) => void) | undefined) {
    super();
  }

  resolve(msg: Msg): void {
    this.settle(stored(msg));
  }

  noResponders(): void {
    this.settle(false);
  }

  timeout(): void {
    this.settle(false);
  }

  abort(): void {
    this.settle(false);
  }

  private settle(ok: boolean): void {
    const done = this.done;
    this.done = undefined;
    done?.(ok);
  }
}

/** Whether a JetStream publish ack says the message was stored (not an error, not a no-responders status). */
function stored(msg: Msg): boolean {
  if (msg.headers?.hasError) return false;
  try {
    const ack = msg.json<{ seq?: unknown; error?: unknown }>();
    return typeof ack.seq === "number" && ack.error === undefined;
  } catch {
    return false;
  }
}
