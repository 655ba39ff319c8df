// agentctl events: the namespace's lifecycle and supervision events, one line
// each (or one JSON object each), live until Ctrl-C; --since first reads the
// namespace's kept history. Reads only: a namespace without events is
// reported, never made.

import type { Command } from "commander";
import { EVENT_KINDS, type EventKind } from "../../actors/index.js";
import { formatEventLine, wantsColour } from "../event-line.js";
import { UsageError } from "../exit-code.js";
import type { Factory } from "../factory.js";
import { durationMs, positiveInteger } from "../option-parsers.js";
import { untilSignal } from "../signals.js";

interface EventsOptions {
  kind: string[];
  agent?: string;
  since?: number;
  json?: boolean;
  limit?: number;
  follow: boolean;
}

/** `--kind a --kind b,c`: every kind named, in order. */
function collectKinds(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter((v) => v !== "")];
}

/** Register `agentctl events [--kind K ...] [--agent ID] [--since DURATION] [--json] [--limit N] [--no-follow]`. */
export function register(program: Command, f: Factory): void {
  program
    .command("events")
    .summary("tail the namespace's events, live")
    .description(
      "print the namespace's lifecycle and supervision events as they happen (starts, failures, restarts, fencing,\n" +
        "failover, invalid messages, permission denials, budget stops), one line each: time, kind, agent, node and the\n" +
        "kind's key fields. --since first prints the events kept from that long ago (nodes keep the last 24 hours, at most\n" +
        "100 000 events, by default). Runs until Ctrl-C; --limit or --no-follow end it sooner.\n\n" +
        `Kinds: ${EVENT_KINDS.join(", ")}`,
    )
    .option("--kind <kind>", "only events of this kind (repeat, or a comma-separated list)", collectKinds, [])
    .option("--agent <id>", "only events about this agent (TYPE/KEY; node/NAME for a node's own events)")
    .option("--since <duration>", "first the events kept from this long ago, like 30s, 5m, 2h or 1d", durationMs)
    .option("--json", "print one JSON object per event, one per line")
    .option("--limit <n>", "exit after this many events", positiveInteger)
    .option("--no-follow", "with --since: exit once the kept events are printed")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ agentctl events                                  # live, until Ctrl-C\n" +
        "  $ agentctl events --since 10m --kind child_failed  # failures of the last 10 minutes, then live\n" +
        "  $ agentctl events --agent counter/c1 --json        # one agent, as JSON lines\n" +
        "  $ agentctl events --since 1h --no-follow           # the last hour, then exit",
    )
    .action(
      f.action(async (opts: EventsOptions) => {
        const unknown = opts.kind.filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
        if (unknown.length > 0) throw new UsageError(`unknown event kind ${unknown.join(", ")}; the kinds are ${EVENT_KINDS.join(", ")}`);
        if (!opts.follow && opts.since === undefined) throw new UsageError("--no-follow needs --since: without it there is nothing to print before the live events");
        const client = await f.client();
        const feed = await client.events({
          since: opts.since,
          kinds: opts.kind as EventKind[],
          agent: opts.agent,
          follow: opts.follow,
          onSkip: (subject, reason) => f.out.note(`skipped a message on ${subject} that is no event: ${reason}`),
        });
        if (!feed.stored) f.out.note(`namespace ${client.namespace} keeps no event history (no node has run in it yet, or its nodes run with eventHistory: false): showing live events only`);
        else if (opts.follow) f.out.note("press Ctrl-C to stop");
        void untilSignal().then(() => feed.stop());
        const colour = !opts.json && wantsColour(process.stdout);
        let count = 0;
        for await (const e of feed) {
          if (opts.json) f.out.jsonLine(e);
          else f.out.line(formatEventLine(e, { colour }));
          if (opts.limit !== undefined && ++count >= opts.limit) break;
        }
        feed.stop();
        if (feed.skipped > 0) f.out.note(`${feed.skipped} message(s) on event subjects were no events and were skipped`);
      }),
    );
}
