// The durable mailboxes of a namespace: one stream, `TROUPE_<NS>_MBOX`, whose
// subjects `troupe.<ns>.mbox.<type>.<key>` are the mailboxes of the agents
// whose type says `mailbox: "durable"`. A message is in the mailbox once
// JetStream acknowledged it; it leaves when the commit of the state it
// produced has landed (the agent removes what it applied). The stream refuses
// a message for a full mailbox (discard new, per subject), so a sender learns
// it at once instead of an old message being dropped.

import type { NatsConnection } from "@nats-io/nats-core";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { errorText, InvalidConfigError } from "../errors.js";
import type { Subjects } from "../subjects.js";

/** Limits of the mailbox stream (node options `durableMailboxes`). */
export interface MailboxStreamLimits {
  /** Messages one agent's mailbox holds at most; past it `tell` fails with MailboxFullError. */
  maxMessagesPerAgent: number;
  /** Bytes all durable mailboxes of the namespace hold at most. */
  maxBytes: number;
  /** A message not applied within this long is dropped by the server (the bound of "never lost"). */
  maxAgeMs: number;
  /** A message id sent again within this long is stored once. */
  duplicateWindowMs: number;
  /** Copies of each message in a NATS cluster (1, or 3 for R3). */
  replicas: number;
}

/** 10k messages per agent, 1 GiB in all, kept 7 days, duplicates recognised for 2 minutes, one replica. */
export const DEFAULT_MAILBOX_STREAM: Readonly<MailboxStreamLimits> = Object.freeze({
  maxMessagesPerAgent: 10_000,
  maxBytes: 1024 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600 * 1000,
  duplicateWindowMs: 2 * 60 * 1000,
  replicas: 1,
});

const NS_PER_MS = 1_000_000;

/**
 * Make sure the mailbox stream exists with `limits`; an existing stream's
 * limits are brought to `limits` (its storage and retention stay).
 *
 * @throws InvalidConfigError when it can be neither found nor created (its
 *   subjects overlap another stream's, the account's limits are reached, more
 *   replicas than servers): durable messages would have nowhere to go.
 */
export async function ensureMailboxStream(nc: NatsConnection, subjects: Subjects, limits: MailboxStreamLimits): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = subjects.mailboxStream();
  const config = {
    name,
    subjects: [subjects.allMailboxes()],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    discard_new_per_subject: true,
    max_msgs_per_subject: limits.maxMessagesPerAgent,
    max_bytes: limits.maxBytes,
    max_age: limits.maxAgeMs * NS_PER_MS,
    duplicate_window: limits.duplicateWindowMs * NS_PER_MS,
    num_replicas: limits.replicas,
  };
  const existing = await jsm.streams.info(name).catch(() => undefined);
  try {
    if (existing === undefined) await jsm.streams.add(config);
    else if (differs(existing.config, config)) await jsm.streams.update(name, config);
  } catch (err) {
    // Another node created it at the same moment: fine.
    if (existing === undefined && (await jsm.streams.info(name).then(() => true, () => false))) return;
    throw new InvalidConfigError("durable mailboxes", `stream ${name} (subjects ${subjects.allMailboxes()}) could not be ${existing ? "updated" : "created"}: ${errorText(err)}`);
  }
}

function differs(current: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).some(([k, v]) => k !== "subjects" && k !== "storage" && k !== "retention" && current[k] !== v);
}

/** `err_code` of "the stream could not store the message" (its limits, with discard new). */
const STORE_FAILED_CODE = 10077;

/** True when the stream refused a message because a limit is reached (the agent's mailbox, or all of them). */
export function isMailboxLimit(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  return (
    typeof e === "object" && e !== null && e.name === "JetStreamApiError" && e.code === STORE_FAILED_CODE && /maximum (messages|bytes)/.test(String(e.message))
  );
}
