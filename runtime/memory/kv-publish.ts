// A KV write as a JetStream publish with a message id: the id is kept across
// retries, so when a write landed but its acknowledgement was lost (a timeout,
// a server restart), the retry is deduplicated by the server instead of
// failing compare-and-set against its own earlier write. The write also names
// its writer in a header (provenance), which history() reads back.

import type { Bucket } from "@nats-io/kv";
import { headers } from "@nats-io/transport-node";
import { InvalidArgumentError } from "../errors.js";

const KV_OPERATION_HEADER = "KV-Operation";

/** The header a write names its writer in: an agent id, `client:<name>` or `node:<id>`. */
export const WRITER_HEADER = "Troupe-Writer";

/**
 * The longest writer: an agent id, two 128-character tokens and a `/` (257); `client:`
 * or `node:` and a 128-character name are shorter.
 */
export const MAX_WRITER_LENGTH = 257;

/** What a writer may hold: the characters of agent ids, node and client names, and `:`. */
const WRITER = /^[-_/:a-zA-Z0-9]+$/;

/**
 * Bytes kept for the headers of one write. The server (and the client, before sending)
 * counts headers and value together against max_payload and the stream's max_msg_size,
 * so a value may use the limit less this. The largest header block of a write is
 * `NATS/1.0` (8), `\r\nNats-Msg-Id: ` + a 22-character id (37),
 * `\r\nNats-Expected-Last-Subject-Sequence: ` + up to 16 digits (55),
 * `\r\nTroupe-Writer: ` + up to {@link MAX_WRITER_LENGTH} characters (17 + 257 = 274), and
 * the final `\r\n\r\n` (4): 378 bytes; a delete has `\r\nKV-Operation: DEL` (19) instead
 * of the expected sequence and no value.
 */
export const KV_WRITE_HEADER_BYTES = 384;

/** Check a writer before it goes into a header; returns it, or throws InvalidArgumentError. */
export function checkWriter(writer: string): string {
  if (typeof writer !== "string" || writer.length > MAX_WRITER_LENGTH || !WRITER.test(writer)) {
    throw new InvalidArgumentError(
      "writer",
      `invalid memory writer ${JSON.stringify(writer)}: 1-${MAX_WRITER_LENGTH} letters, digits, "-", "_", "/" or ":"`,
    );
  }
  return writer;
}

/** How one KV write is published. */
export interface KvPublishOptions {
  /** Message id for deduplication: the same for every retry of one write. */
  msgID: string;
  /** Write only if the key's last revision is this one (0: the key was never written). */
  expectRevision?: number;
  /** Write a delete marker instead of a value. */
  isDelete?: boolean;
  /** How long to wait for the acknowledgement, ms. Default: the JetStream context's. */
  timeoutMs?: number;
  /** Who writes (checked with {@link checkWriter}); recorded in the {@link WRITER_HEADER} header. */
  writer?: string;
}

/** Publish one KV write and return the revision it got. */
export async function publishToKey(kv: Bucket, key: string, bytes: Uint8Array, opts: KvPublishOptions): Promise<number> {
  const subject = kv.subjectForKey(kv.encodeKey(key), true);
  const h = headers();
  if (opts.isDelete) h.set(KV_OPERATION_HEADER, "DEL");
  if (opts.writer !== undefined) h.set(WRITER_HEADER, opts.writer);
  const ack = await kv.js.publish(subject, bytes, {
    msgID: opts.msgID,
    headers: h,
    timeout: opts.timeoutMs,
    expect: opts.expectRevision === undefined ? undefined : { lastSubjectSequence: opts.expectRevision },
  });
  return ack.seq;
}
