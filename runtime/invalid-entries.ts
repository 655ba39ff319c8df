// Reporting malformed entries of the cluster buckets: each (bucket, key,
// revision) once, through a sink the node sets (an `invalid_entry` event).
// Scans repeat every heartbeat, so without the once-rule one bad entry would
// report itself forever.

/** The cluster buckets whose entries are checked. */
export const ClusterBucket = { Nodes: "nodes", Registry: "registry", Types: "types" } as const;
export type ClusterBucket = (typeof ClusterBucket)[keyof typeof ClusterBucket];

/** One malformed entry. */
export interface InvalidEntry {
  bucket: ClusterBucket;
  key: string;
  revision: number;
  reason: string;
}

/** Most entries remembered as reported; past it the oldest is forgotten (and may be reported again). */
const MAX_REMEMBERED = 1024;

/** Counts malformed entries and reports each new one once. */
export class InvalidEntries {
  /** Malformed entries reported (each bucket/key/revision once). */
  count = 0;
  /** Where reports go; set once the node can publish events. */
  sink: ((entry: InvalidEntry) => void) | undefined;
  /** Per bucket and key: the revision last reported. Forgotten when the key is read well-formed or missing. */
  private readonly reported = new Map<string, number>();

  /** Report `entry` unless this revision of it was reported already (found before a sink is set, it is reported on a later read). */
  report(entry: InvalidEntry): void {
    const id = `${entry.bucket}\u0000${entry.key}`;
    if (this.reported.get(id) === entry.revision) return;
    if (!this.sink) return;
    this.reported.delete(id);
    if (this.reported.size >= MAX_REMEMBERED) this.reported.delete(this.reported.keys().next().value!);
    this.reported.set(id, entry.revision);
    this.count++;
    try {
      this.sink(entry);
    } catch {
      // a failing sink must not break the scan that found the entry
    }
  }

  /** The key now reads well-formed, or is gone. */
  forget(bucket: ClusterBucket, key: string): void {
    if (this.reported.size > 0) this.reported.delete(`${bucket}\u0000${key}`);
  }
}
