// Listing a KV bucket's keys without a consumer. `kv.keys()` creates an
// ephemeral consumer that the server keeps for five minutes after use; asking
// the bucket's stream for its subjects (stream info with a subjects filter)
// answers the same question with one request and leaves nothing behind.

import type { Bucket } from "@nats-io/kv";

/** The keys that have a message in the bucket (deleted keys too, as their delete marker); decode with the entry. */
export async function listKeys(kv: Bucket): Promise<string[]> {
  const prefix = `${kv.prefix}.`;
  const info = await kv.jsm.streams.info(kv.stream, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {})
    .filter((s) => s.startsWith(prefix))
    .map((s) => s.slice(prefix.length));
}
