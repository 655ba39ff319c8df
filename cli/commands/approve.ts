// agentctl approve: decide a tool call a model agent waits for a person on,
// or, without an approval id, show what it waits for (from its journal), so
// the person sees exactly the call they approve.

import type { Command } from "commander";
import { parseAgentId } from "../../actors/index.js";
import type { PendingApproval } from "../../runtime/model/journal.js";
import { ExitCode, NotFoundError, UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { positiveInteger } from "../option-parsers.js";
import { formatDuration, toJson } from "../output.js";
import { clean, isoTime, journalOf } from "../transcript-view.js";

const EXAMPLES = `
Examples:
  $ agentctl approve assistant/u42                      # what it waits for: approval id, tool, arguments, deadline
  $ agentctl approve assistant/u42 8c1f0e2a9b           # run the call, with exactly the arguments shown
  $ agentctl approve assistant/u42 8c1f0e2a9b --deny "not over 100 EUR"`;

/** Register `agentctl approve ID [APPROVAL] [--deny REASON]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("approve")
    .summary("approve or deny a model agent's tool call")
    .description(
      "approve (or with --deny, deny) a tool call a model agent waits for a person on; the approved call runs with " +
        "exactly the arguments shown, a denied one is returned to the model with the reason. Without APPROVAL, show " +
        "the approval it waits for",
    )
    .argument("<id>", "the model agent, as TYPE/KEY")
    .argument("[approval]", "the approval's id (as `agentctl approve ID` or the stream's approval chunk shows it)")
    .option("--deny <reason>", "deny the call instead, telling the model why")
    .option("-t, --timeout <ms>", "give up after this many milliseconds", positiveInteger, 5000)
    .option("--json", "print the answer (or the approvals it waits for) as JSON")
    .addHelpText("after", EXAMPLES)
    .action(
      f.action(async (id: string, approval: string | undefined, opts: { deny?: string; timeout: number; json?: boolean }) => {
        parseAgentId(id);
        if (approval === undefined) {
          if (opts.deny !== undefined) throw new UsageError("--deny needs the APPROVAL to deny; run `agentctl approve ID` to see it");
          return showWaiting(f, id, opts.json === true);
        }
        const ref = (await f.client()).ref(id);
        const denying = opts.deny !== undefined;
        const answer = denying ? await ref.deny(approval, opts.deny, { timeoutMs: opts.timeout }) : await ref.approve(approval, { timeoutMs: opts.timeout });
        if (opts.json) f.out.json(answer);
        else f.out.line(`${answer.decision} ${approval} of ${id}${denying ? `: ${opts.deny}` : ""}`);
        if (!denying && answer.decision !== "approved") {
          f.out.note(`error: approval ${approval} of ${id} was past its deadline; the call was denied`);
          return ExitCode.Error;
        }
      }),
    );
}

/** What `id` waits for, from its persisted state. */
async function showWaiting(f: Factory, id: string, json: boolean): Promise<void> {
  const stored = await (await f.client()).persistedState(id);
  if (stored === undefined) throw new NotFoundError(`no persisted state for ${id}: it has no conversation yet`);
  const request = journalOf(id, stored.value).request;
  const waiting: PendingApproval[] = request?.approval ? [request.approval] : [];
  if (json) return f.out.json(waiting.map((a) => ({ approval: a.id, request: request!.id, tool: a.tool, args: a.args, deadline: isoTime(a.deadline) })));
  if (waiting.length === 0) return f.out.line(`${id} waits for no approval`);
  const now = Date.now();
  for (const a of waiting) {
    f.out.line(`${id} waits for approval ${a.id}`);
    f.out.line(`  request   ${request!.id}`);
    f.out.line(`  tool      ${a.tool}`);
    f.out.line(`  args      ${toJson(a.args, 2).split("\n").map(clean).join("\n            ")}`);
    f.out.line(`  deadline  ${isoTime(a.deadline)} (${a.deadline > now ? `in ${formatDuration(a.deadline - now)}` : "passed"})`);
    f.out.line(`approve with: agentctl approve ${id} ${a.id}`);
    f.out.line(`deny with:    agentctl approve ${id} ${a.id} --deny REASON`);
  }
}
