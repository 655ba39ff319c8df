// agentctl top: a live view of the namespace's agents, refreshed like top(1):
// per agent its node, state, messages/s, mailbox depth, restarts, p99
// handling time and uptime; failing agents highlighted. `--once` prints one
// frame as plain text (two listings an interval apart), for scripts.

import { Option, type Command } from "commander";
import { systemClock } from "../../runtime/clock.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { positiveInteger } from "../option-parsers.js";
import { frameLines, TOP_SORTS, topFrame, type TopSample, type TopSort } from "../top-model.js";

interface TopOptions {
  interval: number;
  once?: boolean;
  sort: TopSort;
  filter?: string;
  json?: boolean;
}

const HELP = `
The view:
  A header with the namespace, its nodes and agents, how many are failing and
  the messages per second of all agents; then one row per agent: AGENT, NODE,
  STATE, MSG/S (messages handled per second since the last refresh), MAILBOX
  (messages waiting), RESTARTS, P99 (99th percentile of its handling time over
  the last 30 to 60 s), UPTIME. A failing agent (failed or restarting, or its
  restarts or failures rose in the last 10 s) is red and marked "!".

Keys:
  q      quit (also Esc, Ctrl-C)
  s      next sort: ${TOP_SORTS.join(", ")}
  /      filter by agent or node (type, Enter keeps it, Esc clears it)

Examples:
  $ agentctl top
  $ agentctl top --sort rate --interval 2000
  $ agentctl top --once                  # one plain frame after one interval, for scripts
  $ agentctl top --once --json | jq '.[] | select(.failing)'`;

/** Register `agentctl top`. */
export function register(program: Command, f: Factory): void {
  program
    .command("top")
    .summary("watch the agents live: rates, mailboxes, restarts, p99")
    .description("a live view of every agent in the namespace, refreshed every interval, failing agents highlighted")
    .option("--interval <ms>", "refresh every <ms> milliseconds", positiveInteger, 1000)
    .addOption(new Option("--sort <key>", "sort rows by").choices(TOP_SORTS).default("node"))
    .option("--filter <text>", "show only agents whose id or node contains <text>")
    .option("--once", "list twice, <interval> apart, print one frame as plain text and exit (no terminal needed)")
    .option("--json", "with --once: print the rows as a JSON array")
    .addHelpText("after", HELP)
    .action(
      f.action(async (opts: TopOptions) => {
        if (opts.json && !opts.once) throw new UsageError("--json needs --once");
        if (!opts.once && !process.stdin.isTTY) throw new UsageError("the live view needs a terminal; use --once for one plain frame");
        const client = await f.client();
        const list = async (): Promise<Omit<TopSample, "at">> => {
          const { agents, nodes, unreachable } = await client.listAll();
          return { agents, nodes: nodes.map((n) => n.id), unreachable };
        };
        if (opts.once) {
          const first: TopSample = { ...(await list()), at: systemClock.now() };
          await systemClock.sleep(opts.interval);
          const second: TopSample = { ...(await list()), at: systemClock.now() };
          const frame = topFrame(second, first, { sort: opts.sort, filter: opts.filter, namespace: client.namespace });
          if (opts.json) return f.out.json(frame.rows);
          for (const line of frameLines(frame).lines) f.out.line(line);
          return;
        }
        // Loaded only for the live view: ink and react take a while to import.
        const [{ render }, { createElement }, { TopView }] = await Promise.all([import("ink"), import("react"), import("../top-view.js")]);
        const app = render(
          createElement(TopView, { list, namespace: client.namespace, intervalMs: opts.interval, sort: opts.sort, filter: opts.filter, clock: systemClock }),
          { exitOnCtrlC: true, patchConsole: false },
        );
        await app.waitUntilExit();
      }),
    );
}
