// The namespace's recent events: one stream, `TROUPE_<NS>_EVENTS`, capturing
// `troupe.<ns>.events.>`. Nodes publish events as core messages (events.ts);
// the stream only keeps them, so `agentctl events --since 1h` has history to
// read. Limits retention, the oldest dropped first, bounded by age, count and
// bytes: a flood of events cannot fill the server. Only a node makes it; a
// reader never does (event-feed.ts).

import type { NatsConnection } from "@nats-io/nats-core";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { errorText, InvalidConfigError } from "./errors.js";
import type { Subjects } from "./subjects.js";

const NS_PER_MS = 1_000_000;

/** How much event history a namespace keeps (`startNode({ eventHistory })`). */
export interface EventHistoryLimits {
  /** Events older than this are dropped. Default 24 hours. */
  maxAgeMs: number;
  /** At most this many events are kept. Default 100 000. */
  maxMessages: number;
  /** At most this many bytes of events are kept. Default 64 MiB. */
  maxBytes: number;
  /** Where the server keeps them: `"file"` (default; survives a server restart) or `"memory"`. */
  storage: "file" | "memory";
}

/** The defaults of {@link EventHistoryLimits}. */
export const DEFAULT_EVENT_HISTORY: Readonly<EventHistoryLimits> = {
  maxAgeMs: 24 * 3600 * 1000,
  maxMessages: 100_000,
  maxBytes: 64 * 1024 * 1024,
  storage: "file",
};

/**
 * Merge `given` into the defaults, checking each field; a bad one is named `eventHistory.<field>`.
 * `false` keeps no history: null (the node makes no events stream).
 */
export function eventHistoryLimits(given: Partial<EventHistoryLimits> | false | undefined): EventHistoryLimits | null {
  if (given === false) return null;
  if (given === undefined) return { ...DEFAULT_EVENT_HISTORY };
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new InvalidConfigError("eventHistory", `must be an object, got ${JSON.stringify(given)}`);
  }
  const limits: EventHistoryLimits = { ...DEFAULT_EVENT_HISTORY };
  for (const [field, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (field === "storage") {
      if (value !== "file" && value !== "memory") throw new InvalidConfigError("eventHistory.storage", `must be "file" or "memory", got ${JSON.stringify(value)}`);
      limits.storage = value;
    } else if (field === "maxAgeMs" || field === "maxMessages" || field === "maxBytes") {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
        throw new InvalidConfigError(`eventHistory.${field}`, `must be a whole number from 1, got ${JSON.stringify(value)}`);
      }
      limits[field] = value;
    } else {
      throw new InvalidConfigError(`eventHistory.${field}`, `unknown field (known: ${Object.keys(DEFAULT_EVENT_HISTORY).join(", ")})`);
    }
  }
  return limits;
}

/**
 * Make sure the events stream exists; an existing one is left as it is.
 *
 * @throws InvalidConfigError when it can be neither found nor made
 */
export async function ensureEventsStream(nc: NatsConnection, subjects: Subjects, replicas: number, limits: EventHistoryLimits): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = subjects.eventsStream();
  const exists = (): Promise<boolean> => jsm.streams.info(name).then(() => true, () => false);
  if (await exists()) return;
  try {
    await jsm.streams.add({
      name,
      subjects: [subjects.allEvents()],
      retention: RetentionPolicy.Limits,
      storage: limits.storage === "memory" ? StorageType.Memory : StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: limits.maxAgeMs * NS_PER_MS,
      max_msgs: limits.maxMessages,
      max_bytes: limits.maxBytes,
      num_replicas: replicas,
    });
  } catch (err) {
    // Another node made it at the same moment: fine.
    if (await exists()) return;
    throw new InvalidConfigError("events stream", `${name} (subjects ${subjects.allEvents()}) could not be created: ${errorText(err)}`);
  }
}
