// The agentctl command tree: global options, help text with the exit codes,
// and every command registered from its own file under commands/.

import { Command, Option } from "commander";
import * as ask from "./commands/ask.js";
import * as auth from "./commands/auth.js";
import * as bench from "./commands/bench.js";
import * as demo from "./commands/demo.js";
import * as dev from "./commands/dev.js";
import * as dlq from "./commands/dlq.js";
import * as kill from "./commands/kill.js";
import * as kv from "./commands/kv.js";
import * as node from "./commands/node.js";
import * as ps from "./commands/ps.js";
import * as spawn from "./commands/spawn.js";
import * as state from "./commands/state.js";
import * as stop from "./commands/stop.js";
import * as tell from "./commands/tell.js";
import * as tree from "./commands/tree.js";
import { EXIT_CODE_HELP } from "./exit-code.js";
import { Factory, usageHint } from "./factory.js";
import type { Output } from "./output.js";
import { packageVersion } from "./package-root.js";

const EXAMPLES = `Examples:
  $ agentctl demo                              # a guided tour; starts what it needs
  $ agentctl dev --detach                      # a local NATS server on 127.0.0.1:4222
  $ agentctl node start --agents ./agents.ts   # a node hosting echo, counter and your types
  $ agentctl spawn counter --key c1
  $ agentctl tell counter/c1 '{"op":"inc"}'
  $ agentctl ask counter/c1 '{"op":"get"}'
  $ agentctl ps`;

/** Every command module, in the order `agentctl --help` lists them. */
const COMMANDS = [dev, node, spawn, ps, tell, ask, stop, kill, tree, state, kv, dlq, auth, demo, bench];

/** Show the command's usage after each usage error, for it and every subcommand. */
function hintUsage(cmd: Command): void {
  cmd.showHelpAfterError(usageHint(cmd));
  for (const sub of cmd.commands) hintUsage(sub);
}

/** Build the program; parse with `program.parseAsync()`, then exit with `factory.exitCode`. */
export function buildProgram(out?: Output): { program: Command; factory: Factory } {
  const program = new Command("agentctl");
  const factory = new Factory(program, out);
  program
    .description("Run and inspect Troupe agents: an actor runtime for AI agents on NATS.")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .addOption(
      new Option("-s, --server <url>", "NATS server URL").env("NATS_URL").default("nats://127.0.0.1:4222"),
    )
    .addOption(new Option("-n, --namespace <ns>", "namespace (isolation unit)").env("TROUPE_NAMESPACE").default("default"))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .addHelpText("after", `\n${EXAMPLES}\n\n${EXIT_CODE_HELP}\n`);
  program.helpCommand("help [command]", "show help for a command");
  for (const c of COMMANDS) c.register(program, factory);
  hintUsage(program);
  return { program, factory };
}
