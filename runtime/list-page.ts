// One page of a node's agent list, filled to fit one message: each agent's
// entry is measured as MessagePack (an array's encoding is its header plus its
// items' encodings, so the sum is exact), added while the reply stays within
// the byte limit and the asked-for count. `next` names the last agent of a
// page that has more after it: the asker sends it back as `after`.

import type { AgentInfo } from "./agent-host.js";
import { encodeValue } from "./codec.js";
import { InvalidMessageError } from "./errors.js";
import type { AgentId } from "./subjects.js";

/** The answer to a `list` control request. */
export interface ListPage {
  agents: AgentInfo[];
  /** Present when more agents follow: the id to ask the next page after. */
  next?: AgentId;
}

/** Bytes of a MessagePack array header for `n` items. */
function arrayHeaderBytes(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

/** Bytes the `next` field adds to a page object (the object's header stays one byte). */
function nextFieldBytes(id: string): number {
  return encodeValue({ next: id }).length - encodeValue({}).length;
}

/**
 * Take agents from `entries` (in id order) into a page of at most `limit`
 * agents whose reply is at most `maxBytes` long, where `emptyPageBytes` is the
 * encoded size of the whole reply carrying `{ agents: [] }`.
 *
 * @example
 * const empty = encodeReply(inReplyTo, sender, { agents: [] }, null, Infinity).length;
 * const page = fillListPage(hosting.listFrom(after), limit, maxBytes, empty);
 * @throws InvalidMessageError when not even the first agent's entry fits (the page could never move on)
 */
export function fillListPage(entries: Iterable<AgentInfo>, limit: number, maxBytes: number, emptyPageBytes: number): ListPage {
  const agents: AgentInfo[] = [];
  // The empty page's bytes include a one-byte header for its empty array.
  const fixed = emptyPageBytes - arrayHeaderBytes(0);
  let itemBytes = 0;
  for (const info of entries) {
    if (agents.length >= limit) return { agents, next: agents[agents.length - 1]!.id };
    const size = encodeValue(info).length;
    const total = fixed + arrayHeaderBytes(agents.length + 1) + itemBytes + size + nextFieldBytes(info.id);
    if (total > maxBytes) {
      if (agents.length === 0) {
        throw new InvalidMessageError(`a list page holding only ${info.id} is ${total} bytes, over the ${maxBytes}-byte limit`);
      }
      return { agents, next: agents[agents.length - 1]!.id };
    }
    agents.push(info);
    itemBytes += size;
  }
  return { agents };
}
