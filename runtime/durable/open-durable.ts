// What a node needs for durable mailboxes: JetStream, the type directory
// (every type it hosts written with its mailbox kind), and, when it hosts a
// type with a durable mailbox, the mailbox stream with the node's limits.

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { ActivationMode, type AgentType } from "../define-agent.js";
import type { SupervisorType } from "../define-supervisor.js";
import { ClusterBucket, type InvalidEntries } from "../invalid-entries.js";
import { MailboxKind } from "../mailbox-kind.js";
import type { Retry } from "../state-store.js";
import type { Subjects } from "../subjects.js";
import { ensureMailboxStream, type MailboxStreamLimits } from "./mailbox-stream.js";
import { TypeDirectory } from "./type-directory.js";

/** A node's durable-mailbox parts. */
export interface DurableParts {
  js: JetStreamClient;
  jsm: JetStreamManager;
  directory: TypeDirectory;
  /** Whether the node hosts a type with a durable mailbox (then the stream exists). */
  hostsDurable: boolean;
}

/** Open the type directory, register `agents`' mailboxes, and make sure of the mailbox stream when one is durable. */
export async function openDurable(
  nc: NatsConnection,
  subjects: Subjects,
  o: { agents: ReadonlyArray<AgentType | SupervisorType>; durableMailboxes: MailboxStreamLimits; replicas: number },
  retry: Retry,
  invalid: InvalidEntries,
): Promise<DurableParts> {
  const directory = await TypeDirectory.create(
    nc,
    subjects,
    retry,
    (key, revision, reason) => invalid.report({ bucket: ClusterBucket.Types, key, revision, reason }),
    o.replicas,
  );
  const types = o.agents.filter((a): a is AgentType => a.kind === "agent").map((a) => ({
    type: a.type,
    mailbox: a.mailbox,
    onDemand: a.activation === ActivationMode.OnDemand,
    verified: a.requireVerifiedSender,
  }));
  const hostsDurable = types.some((t) => t.mailbox === MailboxKind.Durable);
  try {
    if (hostsDurable) await ensureMailboxStream(nc, subjects, o.durableMailboxes);
    await directory.register(types);
  } catch (err) {
    directory.close();
    throw err;
  }
  return { js: jetstream(nc), jsm: await jetstreamManager(nc), directory, hostsDurable };
}
