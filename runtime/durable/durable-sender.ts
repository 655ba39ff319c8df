// Sending to a durable mailbox: the message is stored in the mailbox stream
// before the send resolves. Each send carries a message id (`Nats-Msg-Id`,
// scoped to its agent, since the stream recognises ids across all its
// subjects), so a send retried within the duplicate window is stored once,
// and the retries below, after a timeout or while a server restarts, never
// store it twice. An ask's reply subject and idempotency key travel in
// headers: a stored message keeps no NATS reply subject. So does the proof of
// its sender, for an agent that accepts only verified senders: JetStream
// stores a message's headers with it and delivers them with it.

import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Clock } from "../clock.js";
import { errorText, MailboxFullError, MailboxUnavailableError, MemoryUnavailableError } from "../errors.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "../memory/retry.js";
import type { AgentId } from "../subjects.js";
import { isMailboxLimit } from "./mailbox-stream.js";
import { ProofHeader } from "../auth/sender-proof.js";

/** Headers of a stored durable message. */
export const DurableHeader = {
  /** The inbox an ask's reply goes to. */
  Reply: "Troupe-Reply",
  /** A message's key (a caller's id): a second message with it is not applied again (an ask gets the first one's outcome). */
  Key: "Troupe-Key",
  /** The durable topic a message was published on (forwarded into a subscriber's mailbox). */
  Topic: "Troupe-Topic",
} as const;

/** How long one store attempt waits for the stream's acknowledgement. */
const STORE_TIMEOUT_MS = 2000;

/** Stores messages in durable mailboxes. */
export class DurableSender {
  constructor(
    private readonly js: JetStreamClient,
    private readonly clock: Clock,
  ) {}

  /**
   * Store `payload` in `subject`, the durable mailbox of `agentId`, under
   * message id `msgId`; resolves once stored (a duplicate of `msgId` was
   * stored before, so it counts as stored).
   *
   * @throws MailboxFullError when the mailbox (or all of them) is at its limit
   * @throws MailboxUnavailableError when JetStream could not store it through every retry
   */
  async store(
    agentId: AgentId,
    subject: string,
    payload: Uint8Array,
    msgId: string,
    meta?: { reply?: string; key?: string; proof?: { signer: string; signature: string }; topic?: string },
  ): Promise<void> {
    let hdrs: MsgHdrs | undefined;
    if (meta?.reply !== undefined || meta?.key !== undefined || meta?.proof !== undefined || meta?.topic !== undefined) {
      hdrs = natsHeaders();
      if (meta.topic !== undefined) hdrs.set(DurableHeader.Topic, meta.topic);
      if (meta.reply !== undefined) hdrs.set(DurableHeader.Reply, meta.reply);
      if (meta.key !== undefined) hdrs.set(DurableHeader.Key, meta.key);
      if (meta.proof !== undefined) {
        hdrs.set(ProofHeader.Signer, meta.proof.signer);
        hdrs.set(ProofHeader.Signature, meta.proof.signature);
      }
    }
    const options = { msgID: `${agentId}:${msgId}`, headers: hdrs, timeout: STORE_TIMEOUT_MS };
    try {
      await withJetStreamRetry(
        "store",
        () =>
          this.js.publish(subject, payload, options).catch((err: unknown) => {
            // The server answers a full mailbox with status 503, which would otherwise be retried as "not now".
            if (isMailboxLimit(err)) throw new MailboxFullError(agentId, `its durable mailbox is at its limit: ${errorText(err)}`, "durable");
            throw err;
          }),
        { clock: this.clock, ...DEFAULT_RETRY },
      );
    } catch (err) {
      if (err instanceof MailboxFullError) throw err;
      const why = err instanceof MemoryUnavailableError ? `JetStream did not answer through every retry (${errorText(err.cause)})` : errorText(err);
      throw new MailboxUnavailableError(agentId, why, { cause: err });
    }
  }
}
