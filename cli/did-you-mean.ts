// "did you mean X?": the closest of some names to a mistyped one, by edit distance.

/** Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The name in `names` closest to `word`, when it is close enough to be a typo
 * of it (at most 2 edits, and at most half the word's length, letter case
 * aside); else undefined. `word` itself is no suggestion.
 *
 * @example
 * closestName("countr", ["echo", "counter"]) // "counter"
 * closestName("unicorn", ["echo", "counter"]) // undefined
 */
export function closestName(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    if (name === word) continue;
    const d = editDistance(word.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best !== undefined && bestDistance <= 2 && bestDistance * 2 <= word.length ? best : undefined;
}
