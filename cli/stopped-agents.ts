// The agents of `agentctl ps --all` that do not run: persisted state with no
// running agent (stopped agents keep their state until it is deleted).

import type { AgentInfo, TroupeClient } from "../actors/index.js";
import { parseAgentId } from "../actors/index.js";
import { errorText } from "../runtime/errors.js";
import { toJson } from "./output.js";

/** An agent that is not running and kept its state; `unreadable` when that state could not be read (`problem` says why). */
export interface StoppedAgent {
  id: string;
  type: string;
  key: string;
  node: null;
  state: "stopped" | "unreadable";
  keptState: unknown;
  revision: number;
  problem?: string;
}

/** How many kept states are read at once. */
const READS_IN_FLIGHT = 64;

/** How much of a kept state the table shows. */
const PREVIEW_CHARS = 60;

/**
 * The agents with persisted state that are not among `running`, with that state. One whose state
 * cannot be read (a value that is no state, written by a hostile credential) is listed as unreadable,
 * saying why; the others are listed whatever it holds.
 */
export async function stoppedAgents(client: TroupeClient, running: readonly AgentInfo[]): Promise<StoppedAgent[]> {
  const live = new Set(running.map((a) => a.id));
  const ids = (await client.persistedIds()).filter((id) => !live.has(id));
  const read = async (id: string): Promise<StoppedAgent | undefined> => {
    try {
      const kept = await client.persistedState(id);
      if (kept === undefined) return undefined; // deleted since the listing
      const { type, key } = parseAgentId(id);
      return { id, type, key, node: null, state: "stopped", keptState: kept.value, revision: kept.revision };
    } catch (err) {
      const slash = id.indexOf("/");
      return { id, type: id.slice(0, slash), key: id.slice(slash + 1), node: null, state: "unreadable", keptState: null, revision: 0, problem: errorText(err) };
    }
  };
  // At most READS_IN_FLIGHT reads at a time: a namespace may keep the state of many thousands of agents.
  const found: Array<StoppedAgent | undefined> = [];
  for (let i = 0; i < ids.length; i += READS_IN_FLIGHT) found.push(...(await Promise.all(ids.slice(i, i + READS_IN_FLIGHT).map(read))));
  return found.filter((a): a is StoppedAgent => a !== undefined);
}

/** A kept state as one short line of JSON: `{"count":3}`, cut with … past {@link PREVIEW_CHARS}. */
export function statePreview(value: unknown): string {
  const text = toJson(value);
  return text.length <= PREVIEW_CHARS ? text : `${text.slice(0, PREVIEW_CHARS - 1)}…`;
}
