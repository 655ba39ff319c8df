// What the dashboard shows of one agent when it is clicked: where and how it
// runs (from the latest snapshot), its persisted state, the shared-memory
// keys it wrote last, and for a model agent its conversation and the approval
// it waits for.

import type { AgentInfo, TroupeClient } from "../../actors/index.js";
import { ErrorCode, errorText } from "../../runtime/errors.js";
import { isJournal } from "../../runtime/model/journal.js";
import { NotFoundError } from "../exit-code.js";
import { isoTime, transcriptJson, transcriptOf } from "../transcript-view.js";

/** The most shared-memory keys read (each at its latest revision) to find an agent's keys; past it the list says it is cut. */
export const MEMORY_SCAN_LIMIT = 5000;

/** One agent as the detail view shows it. */
export interface AgentDetail {
  id: string;
  /** Its row of the latest snapshot; null when it does not run. */
  running: AgentInfo | null;
  /** Its persisted state; null when it has none, or when it could not be read (`stateProblem` says why). */
  state: { value: unknown; revision: number } | null;
  /** Why the persisted state could not be read (an observer credential may not read it, say). */
  stateProblem?: string;
  /** Keys of the namespace's shared memory whose latest value this agent wrote; `problem` says why they could not be read (a credential that may not read memory, say). */
  memory: { keys: Array<{ key: string; revision: number; value: unknown }>; truncated: boolean; problem?: string };
  /** A model agent's conversation (as `agentctl transcript --json`); null for other agents. */
  conversation: Record<string, unknown> | null;
  /** The approval a model agent waits for, if any. */
  waiting: { approval: string; request: string; tool: string; args: unknown; deadline: string } | null;
}

/**
 * The detail of `id`; NotFoundError when it neither runs nor has persisted state.
 * `running` is its row of the latest snapshot, if any.
 */
export async function agentDetail(
  client: TroupeClient,
  id: string,
  running: AgentInfo | undefined,
  options: { memoryScanLimit?: number } = {},
): Promise<AgentDetail> {
  // A read this credential may not make must not hide the rest (the running row, the other read): it is said instead.
  const [read, memory] = await Promise.all([
    client.persistedState(id).then(
      (stored) => ({ stored, problem: undefined }),
      (err: unknown) => ({ stored: undefined, problem: errorText(err) }),
    ),
    memoryKeysOf(client, id, options.memoryScanLimit ?? MEMORY_SCAN_LIMIT),
  ]);
  const stored = read.stored;
  if (stored === undefined && read.problem === undefined && running === undefined && memory.keys.length === 0 && memory.problem === undefined) {
    throw new NotFoundError(`no agent ${id}: it does not run and has no persisted state`);
  }
  let conversation: AgentDetail["conversation"] = null;
  let waiting: AgentDetail["waiting"] = null;
  if (stored !== undefined && isJournal(stored.value)) {
    const journal = stored.value;
    conversation = transcriptJson(transcriptOf(id, journal));
    const r = journal.request;
    if (r?.approval) waiting = { approval: r.approval.id, request: r.id, tool: r.approval.tool, args: r.approval.args, deadline: isoTime(r.approval.deadline) };
  }
  const detail: AgentDetail = { id, running: running ?? null, state: stored ?? null, memory, conversation, waiting };
  if (read.problem !== undefined) detail.stateProblem = read.problem;
  return detail;
}

/**
 * The shared-memory keys whose latest revision `id` wrote, with their latest values: reads
 * each key's last revision only (however many older ones the bucket keeps), at most `limit`
 * keys; `truncated` says the bucket has more (the ones read are those written longest ago).
 */
async function memoryKeysOf(client: TroupeClient, id: string, limit: number): Promise<AgentDetail["memory"]> {
  // One entry a key (the server's last-per-subject delivery); a map all the same, should one repeat.
  const latest = new Map<string, { writer: string | undefined; revision: number; value: unknown; put: boolean }>();
  let scanned = 0;
  let truncated = false;
  try {
    for await (const e of client.memory.history(">", { latest: true })) {
      if (++scanned > limit) {
        truncated = true;
        break;
      }
      latest.set(e.key, { writer: e.writer, revision: e.revision, value: e.value ?? null, put: e.op === "put" });
    }
  } catch (err) {
    // A namespace nobody wrote shared memory in has no bucket: no keys. Any other failure (an observer
    // credential may not read the bucket's stream) must not hide the agent's state and row: said instead.
    if ((err as { code?: unknown }).code !== ErrorCode.BucketNotFound) return { keys: [], truncated: false, problem: errorText(err) };
  }
  const keys = [...latest]
    .filter(([, v]) => v.put && v.writer === id)
    .map(([key, v]) => ({ key, revision: v.revision, value: v.value }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { keys, truncated };
}
