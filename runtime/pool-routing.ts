// How a pool picks a member: small pure functions, one per policy. Least loaded
// takes a cost per member (the time a new message would wait there) and breaks
// ties at random; consistent hashing is rendezvous hashing, so a growing pool
// moves only the keys the new member wins (about 1 in n+1).

/** The member with the lowest cost; ties (within `epsilon`) broken by `random`, not by index. */
export function leastCost(costs: readonly number[], random: () => number, epsilon = 1e-9): number {
  let best = Infinity;
  let chosen = 0;
  let ties = 0;
  for (let i = 0; i < costs.length; i++) {
    const c = costs[i]!;
    if (c < best - epsilon) {
      best = c;
      chosen = i;
      ties = 1;
    } else if (Math.abs(c - best) <= epsilon) {
      // Reservoir sampling over the tied members: each is chosen with equal chance.
      ties++;
      if (random() * ties < 1) chosen = i;
    }
  }
  return chosen;
}

/** 32-bit FNV-1a of a string, finished with murmur3's avalanche mix. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Rendezvous (highest random weight) hashing: the member of `size` that `key` goes to. */
export function rendezvous(key: string, size: number): number {
  const k = hash32(key);
  let best = -1;
  let chosen = 0;
  for (let i = 0; i < size; i++) {
    const w = hash32(String(i), k);
    if (w > best) {
      best = w;
      chosen = i;
    }
  }
  return chosen;
}
