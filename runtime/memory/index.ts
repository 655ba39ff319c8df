// Shared memory on JetStream KV: the public surface of runtime/memory.

export { openMemory, type MemoryAccess } from "./memory.js";
export { memoryAs } from "./writer-memory.js";
export { WRITER_HEADER } from "./kv-publish.js";
export { withJetStreamRetry, backoffDelay, DEFAULT_RETRY } from "./retry.js";
export type { JetStreamRetryOptions } from "./retry.js";
export { isTransientJetStreamError, isWrongLastSequence } from "./jetstream-errors.js";
export { validateKey, validatePattern, keyMatcher, MAX_KEY_LENGTH } from "./keys.js";
export { MemoryOp } from "./types.js";
export type {
  Memory,
  MemoryBucket,
  ReadonlyMemoryBucket,
  MemoryEntry,
  MemoryChange,
  MemoryValue,
  MemoryWatch,
  MemoryOptions,
  ModifyOptions,
  GetOptions,
  HistoryOptions,
} from "./types.js";
