// agentctl dlq replay: send dead-lettered messages again, as tells, to the
// agent they were for or to another; each one sent is deleted unless --keep.

import type { Command } from "commander";
import { DeadLetterNotReplayableError, isRawBody, parseAgentId, type Replayed, type TroupeClient } from "../../actors/index.js";
import { ExitCode, UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { positiveInteger } from "../option-parsers.js";

interface ReplayOpts {
  agent?: string;
  to?: string;
  keep?: boolean;
}

/** Register `agentctl dlq replay SEQ|--agent ID [--to ID] [--keep]`. */
export function register(dlq: Command, f: Factory): void {
  dlq
    .command("replay")
    .summary("send dead letters again")
    .description(
      "send a dead letter's message again, as a tell, to the agent it was for (or --to another, which must be running); " +
        "with --agent, every dead letter of that agent, oldest first. Each one sent is deleted, unless --keep; " +
        "one that cannot be sent stays. A message that never decoded cannot be replayed.",
    )
    .argument("[seq]", "the dead letter's sequence, as `dlq ls` lists it", positiveInteger)
    .option("-a, --agent <id>", "replay every dead letter of this agent, as TYPE/KEY")
    .option("-t, --to <id>", "send to this agent instead, as TYPE/KEY")
    .option("-k, --keep", "keep the dead letters after sending them")
    .addHelpText("after", "\nExamples:\n  $ agentctl dlq replay 12\n  $ agentctl dlq replay --agent counter/c1 --to counter/c2")
    .action(
      f.action(async (seq: number | undefined, opts: ReplayOpts) => {
        if ((seq === undefined) === (opts.agent === undefined)) throw new UsageError("give either a dead letter's SEQ or --agent ID");
        if (opts.agent !== undefined) parseAgentId(opts.agent);
        if (opts.to !== undefined) parseAgentId(opts.to);
        const client = await f.client();
        if (seq !== undefined) {
          f.out.line(sentLine(await client.deadLetters.replay(seq, { to: opts.to, keep: opts.keep })));
          return;
        }
        return replayAgent(f, client, opts.agent!, opts);
      }),
    );
}

/** Replay every dead letter of `agent` stored now, oldest first; skips (and counts) the ones that cannot be replayed. */
async function replayAgent(f: Factory, client: TroupeClient, agent: string, opts: ReplayOpts): Promise<number> {
  let sent = 0;
  let skipped = 0;
  for await (const e of client.deadLetters.scan({ agent })) {
    if (e.kind === "undecodable" || isRawBody(e)) {
      const why = e.kind === "undecodable" ? `the stored record does not decode (${e.problem})` : "the message never decoded";
      f.out.note(`skipped ${e.seq}: ${new DeadLetterNotReplayableError(e.seq, why).message}`);
      skipped++;
      continue;
    }
    f.out.line(sentLine(await client.deadLetters.replay(e.seq, { to: opts.to, keep: opts.keep })));
    sent++;
  }
  if (sent === 0 && skipped === 0) f.out.line(`no dead letters for ${agent}`);
  if (skipped > 0) {
    f.out.note(`error: ${skipped} dead letter${skipped === 1 ? "" : "s"} of ${agent} could not be replayed and stay`);
    return ExitCode.Error;
  }
  return ExitCode.Ok;
}

function sentLine(r: Replayed): string {
  return `replayed ${r.seq} (for ${r.from}) to ${r.to}; ${r.kept ? "kept" : "deleted"}`;
}
