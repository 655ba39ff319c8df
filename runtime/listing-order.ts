// The order in which a node lists its agents: their ids sorted by code unit,
// so a page can start "after" an id while agents come and go. Sorting 100,000
// ids on every page would make listing quadratic, so the sorted copy is made
// once per listing (on its first page) and kept for the pages that follow, for
// up to LISTING_REUSE_MS; an agent started during a listing may be missed by
// it, one stopped during it is skipped (its id no longer resolves). The copy is
// replaced by the next listing's first page: there is never more than one.

import type { Clock } from "./clock.js";
import type { AgentId } from "./subjects.js";

/** How long the sorted ids of one listing serve its later pages. */
export const LISTING_REUSE_MS = 10_000;

/** A sorted copy of a node's agent ids, made per listing. */
export class ListingOrder {
  private ids: AgentId[] = [];
  private sortedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly reuseMs = LISTING_REUSE_MS,
  ) {}

  /**
   * The ids after `after` (all of them without it), in code-unit order.
   * `current` gives the ids now hosted (duplicates allowed); it is read when
   * a listing starts or its sorted copy is too old.
   */
  *after(after: AgentId | undefined, current: () => Iterable<AgentId>): Generator<AgentId> {
    const now = this.clock.now();
    if (after === undefined || now - this.sortedAt >= this.reuseMs) {
      this.ids = sortedUnique(current());
      this.sortedAt = now;
    }
    const ids = this.ids;
    for (let i = after === undefined ? 0 : firstAbove(ids, after); i < ids.length; i++) yield ids[i]!;
  }
}

function sortedUnique(ids: Iterable<AgentId>): AgentId[] {
  // The default sort compares UTF-16 code units: the same order as `<`, and no locale lookups.
  const sorted = [...ids].sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i]!;
  sorted.length = n;
  return sorted;
}

/** Index of the first id greater than `after` (binary search). */
function firstAbove(ids: readonly AgentId[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
