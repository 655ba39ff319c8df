// The namespace's cluster buckets (membership, registry, state) as a client
// sees them: opened on first use, never created. A namespace whose buckets do
// not exist (no node ever ran in it, or a mistyped name) is a
// NamespaceNotFoundError, and the next call looks again.

import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm, type Bucket } from "@nats-io/kv";
import type { Clock } from "./clock.js";
import type { ClusterBuckets } from "./cluster-calls.js";
import { JetStreamNotEnabledError, NamespaceNotFoundError } from "./errors.js";
import { InvalidEntries } from "./invalid-entries.js";
import { Membership } from "./membership.js";
import { openExistingKv } from "./memory/kv-existing.js";
import { DEFAULT_RETRY, withJetStreamRetry } from "./memory/retry.js";
import { Registry } from "./registry.js";
import { StateStore, type Retry } from "./state-store.js";
import type { Subjects } from "./subjects.js";

/** Open-on-first-use access to the cluster buckets of `subjects`' namespace, creating none. */
export function existingClusterBuckets(nc: NatsConnection, subjects: Subjects, clock: Clock, servers: string): ClusterBuckets {
  const retry: Retry = (operation, fn) => withJetStreamRetry(operation, fn, { clock, ...DEFAULT_RETRY });
  const invalid = new InvalidEntries();
  const kvm = new Kvm(nc);
  const existing = async (name: string): Promise<Bucket> => {
    if (!(nc.info as { jetstream?: boolean } | undefined)?.jetstream) throw new JetStreamNotEnabledError(servers);
    const kv = await retry(`open ${name}`, () => openExistingKv(kvm, name));
    if (kv === undefined) throw new NamespaceNotFoundError(subjects.ns);
    return kv;
  };
  const membership = once(async () => Membership.observer(await existing(subjects.nodesBucket()), subjects, clock, retry, invalid));
  return {
    membership,
    registry: once(async () => Registry.fromBucket(await existing(subjects.registryBucket()), subjects, await membership(), clock, retry, invalid)),
    stateStore: once(async () => StateStore.fromBucket(await existing(subjects.stateBucket()), subjects, retry)),
  };
}

/** `open` run once; a failure lets the next call try again. */
function once<T>(open: () => Promise<T>): () => Promise<T> {
  let opening: Promise<T> | undefined;
  return () =>
    (opening ??= open().catch((err: unknown) => {
      opening = undefined;
      throw err;
    }));
}
