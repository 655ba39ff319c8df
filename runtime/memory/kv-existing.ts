// Opening a KV bucket that must already exist: a client reads the cluster's
// buckets and shared memory without ever creating one.

import { Bucket, type Kvm } from "@nats-io/kv";
import { isStreamNotFound } from "./jetstream-errors.js";

/**
 * The KV bucket `name` when it exists on the server, else undefined. Binding
 * alone never reaches the server, so the bucket's status is read to find out.
 */
export async function openExistingKv(kvm: Kvm, name: string): Promise<Bucket | undefined> {
  const kv = await kvm.open(name);
  if (!(kv instanceof Bucket)) throw new TypeError(`@nats-io/kv returned an unexpected bucket type for ${name}`);
  try {
    await kv.status();
  } catch (err) {
    if (isStreamNotFound(err)) return undefined;
    throw err;
  }
  return kv;
}
