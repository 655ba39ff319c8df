// The durable topics of a namespace: one stream, `TROUPE_<NS>_TOPICS`,
// capturing `troupe.<ns>.dtopic.>`. Interest retention: a message stays until
// every subscriber's consumer that matches it has taken it (or it is older
// than a week); one nobody subscribes to is not kept. Duplicate ids within two
// minutes are stored once, so a publish retried after a lost answer is not
// delivered twice.

import type { NatsConnection } from "@nats-io/nats-core";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { errorText, InvalidConfigError } from "./errors.js";
import type { Subjects } from "./subjects.js";

const NS_PER_MS = 1_000_000;

/** How long a durable topic message waits for its subscribers at most. */
export const TOPIC_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Bytes all durable topics of a namespace hold at most. */
export const TOPIC_MAX_BYTES = 1024 * 1024 * 1024;
/** A publish id seen again within this long is stored once. */
export const TOPIC_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** Make sure the topics stream exists. @throws InvalidConfigError when it can be neither found nor made. */
export async function ensureTopicsStream(nc: NatsConnection, subjects: Subjects, replicas: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = subjects.topicsStream();
  const existing = await jsm.streams.info(name).catch(() => undefined);
  if (existing !== undefined) return;
  try {
    await jsm.streams.add({
      name,
      subjects: [subjects.allDurableTopics()],
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_bytes: TOPIC_MAX_BYTES,
      max_age: TOPIC_MAX_AGE_MS * NS_PER_MS,
      duplicate_window: TOPIC_DUPLICATE_WINDOW_MS * NS_PER_MS,
      num_replicas: replicas,
    });
  } catch (err) {
    // Another node made it at the same moment: fine.
    if (await jsm.streams.info(name).then(() => true, () => false)) return;
    throw new InvalidConfigError("durable topics", `stream ${name} (subjects ${subjects.allDurableTopics()}) could not be created: ${errorText(err)}`);
  }
}
