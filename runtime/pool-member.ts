// The names of a pool's members: agents of the pool's type whose keys are the
// pool's name and an index, `<name>-<i>`. Two pools of one type and name share
// their members; anything that sees an agent (a node's load reports, agentctl ps)
// reads its pool back from its key.

/** The key of member `index` of pool `name`: `<name>-<index>`. */
export function poolMemberKey(name: string, index: number): string {
  return `${name}-${index}`;
}

/** The pool name and index a member key holds, or undefined when the key is no `<name>-<i>`. */
export function parsePoolMember(key: string): { name: string; index: number } | undefined {
  const dash = key.lastIndexOf("-");
  if (dash <= 0 || dash === key.length - 1) return undefined;
  let index = 0;
  for (let i = dash + 1; i < key.length; i++) {
    const c = key.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    index = index * 10 + c;
  }
  // No leading zeros: `w-01` is not member 1 of `w` (it would not map back to one key).
  if (key.length - dash > 2 && key.charCodeAt(dash + 1) === 48) return undefined;
  return index < 1024 ? { name: key.slice(0, dash), index } : undefined;
}
