// How long after a kill a durable mailbox drains again. A probe is an ask
// stored in the mailbox behind everything stored before it, so its answer
// means the ledger applied all of that. At the kill, each ledger concerned
// gets a probe; one that fails (the server is down: MailboxUnavailableError)
// or times out is sent again, until one is answered or the limit passes.

import type { AgentRef } from "../../actors/index.js";
import { sleep } from "../ask-load.js";
import type { LedgerMsg } from "./ledger-agent.js";

/** A probe's own timeout: long, since it waits behind the mailbox's backlog and a failover. */
const PROBE_TIMEOUT_MS = 15_000;
const PAUSE_AFTER_ERROR_MS = 50;

/** Per ledger, ms from `startedAt` to its first answered probe; absent when none was answered within `limitMs`. */
export async function probeDrain(
  refs: ReadonlyMap<string, AgentRef<LedgerMsg>>,
  keys: readonly string[],
  startedAt: number,
  limitMs: number,
): Promise<Map<string, number>> {
  const drained = new Map<string, number>();
  await Promise.all(
    keys.map(async (key) => {
      const ref = refs.get(key)!;
      while (performance.now() - startedAt < limitMs) {
        try {
          await ref.ask({ op: "probe" }, { timeoutMs: Math.min(PROBE_TIMEOUT_MS, Math.max(1, limitMs - (performance.now() - startedAt))) });
          drained.set(key, performance.now() - startedAt);
          return;
        } catch {
          await sleep(PAUSE_AFTER_ERROR_MS);
        }
      }
    }),
  );
  return drained;
}
