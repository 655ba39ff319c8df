// The agentctl command tree: global options, help text with the exit codes,
// and every command registered from its own file under commands/.

import { Command, Option } from "commander";
import * as approve from "./commands/approve.js";
import * as ask from "./commands/ask.js";
import * as auth from "./commands/auth.js";
import * as bench from "./commands/bench.js";
import * as dashboard from "./commands/dashboard.js";
import * as demo from "./commands/demo.js";
import * as dev from "./commands/dev.js";
import * as dlq from "./commands/dlq.js";
import * as kill from "./commands/kill.js";
import * as kv from "./commands/kv.js";
import * as node from "./commands/node.js";
import * as ns from "./commands/ns.js";
import * as ps from "./commands/ps.js";
import * as spawn from "./commands/spawn.js";
import * as state from "./commands/state.js";
import * as stop from "./commands/stop.js";
import * as tell from "./commands/tell.js";
import * as publish from "./commands/publish.js";
import * as transcript from "./commands/transcript.js";
import * as tree from "./commands/tree.js";
import * as events from "./commands/events.js";
import * as top from "./commands/top.js";
import * as mcp from "./commands/mcp.js";
import { EXIT_CODE_HELP } from "./exit-code.js";
import { Factory, usageHint } from "./factory.js";
import type { Output } from "./output.js";
import { packageVersion } from "./package-root.js";

const CONNECTING = `Connecting:
  Each of the server URL, the credentials and the TLS files comes from the first that gives it:
  its flag; the environment (NATS_URL, NATS_CREDS, NATS_CA, NATS_CERT, NATS_KEY); the NATS CLI
  context (--context, else NATS_CONTEXT, else the one \`nats context select\` chose: a file
  $XDG_CONFIG_HOME/nats/context/NAME.json or ~/.config/nats/context/NAME.json, from which url,
  creds, ca, cert and key are used). Without credentials from any of these, a server on this
  machine is reached with those \`agentctl dev --secure\` wrote to .nats/auth (admin.creds;
  node.creds for \`node start\`). The default URL is nats://127.0.0.1:4222.`;

const EXAMPLES = `Examples:
  $ agentctl demo                              # a guided tour; starts what it needs
  $ agentctl dev --detach                      # a local NATS server on 127.0.0.1:4222
  $ agentctl node start --agents ./agents.ts   # a node hosting echo, counter and your types
  $ agentctl spawn counter --key c1
  $ agentctl tell counter/c1 '{"op":"inc"}'
  $ agentctl ask counter/c1 '{"op":"get"}'
  $ agentctl ps`;

/** Every command module, in the order `agentctl --help` lists them. */
const COMMANDS = [dev, node, spawn, ps, top, tell, publish, ask, approve, stop, kill, tree, events, state, transcript, dashboard, kv, dlq, ns, auth, mcp, demo, bench];

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
    .addOption(new Option("-s, --server <url>", "NATS server URL(s), comma-separated (env: NATS_URL; default: nats://127.0.0.1:4222)"))
    .addOption(new Option("--creds <file>", "NATS credentials file (.creds) to connect with (env: NATS_CREDS)"))
    .addOption(new Option("--context <name>", "NATS CLI context to take the URL, credentials and TLS files from (env: NATS_CONTEXT)"))
    .addOption(new Option("--tls-ca <file>", "CA certificate (PEM) that signed the server's certificate (env: NATS_CA)"))
    .addOption(new Option("--tls-cert <file>", "client certificate (PEM), for servers that verify clients (env: NATS_CERT)"))
    .addOption(new Option("--tls-key <file>", "the client certificate's private key (PEM) (env: NATS_KEY)"))
    .addOption(new Option("-n, --namespace <ns>", "namespace (isolation unit)").env("TROUPE_NAMESPACE").default("default"))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .addHelpText("after", `\n${CONNECTING}\n\n${EXAMPLES}\n\n${EXIT_CODE_HELP}\n`);
  program.helpCommand("help [command]", "show help for a command");
  for (const c of COMMANDS) c.register(program, factory);
  hintUsage(program);
  return { program, factory };
}
