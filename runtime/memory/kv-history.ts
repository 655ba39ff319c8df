// A key's history read through an ordered consumer of our own, so each
// revision comes with its message headers (the writer a write recorded). The
// KV client's history() gives entries without headers; this reads the same
// messages the same way (deliver all, filtered by the key's subject, no acks)
// and ends when the consumer has nothing pending. With `latest`, the consumer
// delivers only each key's last revision (the server's last-per-subject policy).

import { DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import type { Bucket, KvWatchEntry } from "@nats-io/kv";
import { WRITER_HEADER } from "./kv-publish.js";

/** One revision of a key and who wrote it (undefined when the write named nobody). */
export interface HistoryRecord {
  readonly entry: KvWatchEntry;
  readonly writer: string | undefined;
}

/**
 * Start reading the revisions of `key` (or of every key matching a pattern),
 * oldest first; with `latest`, only each key's last one. Resolves once the
 * consumer exists (retry this part); iterate the result for the revisions.
 * Breaking out of the iteration stops the consumer.
 */
export async function openHistory(kv: Bucket, key: string, latest = false): Promise<AsyncIterable<HistoryRecord>> {
  const consumer = await kv.js.consumers.getPushConsumer(kv.stream, {
    filter_subjects: kv.fullKeyName(kv.encodeKey(key)),
    deliver_policy: latest ? DeliverPolicy.LastPerSubject : DeliverPolicy.All,
  });
  const pending = (await consumer.info(true)).num_pending;
  if (pending === 0) {
    void consumer.delete().catch(() => {});
    return empty();
  }
  const messages = await consumer.consume();
  // An idle heartbeat before the last revision arrived means the rest is gone (purged meanwhile).
  void (async () => {
    for await (const s of messages.status()) if (s.type === "heartbeat") messages.stop();
  })().catch(() => {});
  return records(kv, messages);
}

async function* records(kv: Bucket, messages: AsyncIterable<JsMsg> & { stop(): void }): AsyncGenerator<HistoryRecord> {
  try {
    for await (const m of messages) {
      yield { entry: kv.jmToWatchEntry(m, false), writer: m.headers?.get(WRITER_HEADER) || undefined };
      if (m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
  }
}

async function* empty(): AsyncGenerator<HistoryRecord> {}
