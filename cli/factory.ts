// What every command shares: the global options, how to connect (resolved on
// first use from flags, environment, NATS context and development
// credentials), a light client opened on first use (so `--help` and usage
// errors never connect), the output, and the wrapper that turns any error into
// one sentence and an exit code.

import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { connectClient, type TroupeClient } from "../actors/index.js";
import { validateNamespace } from "../runtime/subjects.js";
import { resolveConnection, type ConnectionFlags, type ResolvedConnection } from "./connection-flags.js";
import { devAuthDirFor, DevRole } from "./dev-credentials.js";
import { errorSentence, exitCodeOf, ExitCode } from "./exit-code.js";
import { processOutput, type Output } from "./output.js";

/** How long closing the client may take before agentctl exits anyway. */
const CLOSE_TIMEOUT_MS = 3000;

/** `agentctl kv get` for a command: its name with its parents'. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** The lines printed after a usage error: the command's usage and where to read more. */
export function usageHint(cmd: Command): string {
  const path = commandPath(cmd);
  return `Usage: ${path} ${cmd.usage()}\nRun '${path} --help' for details.`;
}

/**
 * Shared state of one agentctl run. Commands ask it for the client
 * (`await f.client()`) and write through `f.out`.
 */
export class Factory {
  /** The exit code of the run; set by {@link Factory.action} and {@link Factory.fail}. */
  exitCode: number = ExitCode.Ok;
  private opened: Promise<TroupeClient> | undefined;
  private readonly resolved = new Map<DevRole, ResolvedConnection>();

  constructor(
    private readonly program: Command,
    readonly out: Output = processOutput(),
  ) {}

  /**
   * The namespace: `--namespace`, else `TROUPE_NAMESPACE`, else `default`, checked.
   * (Where to connect is {@link Factory.connection}, worked out only by commands that connect.)
   */
  namespace(): string {
    return validateNamespace(this.program.opts<{ namespace: string }>().namespace);
  }

  /**
   * How to connect: URL, credentials and TLS files (see {@link resolveConnection}).
   * `role` picks the development credential used when nothing else gives one:
   * `node` for a command that hosts agents, `admin` for the rest.
   */
  connection(role: DevRole = DevRole.Admin): ResolvedConnection {
    let c = this.resolved.get(role);
    if (c === undefined) {
      const o = this.program.opts<ConnectionFlags>();
      const flags: ConnectionFlags = { server: o.server, creds: o.creds, context: o.context, tlsCa: o.tlsCa, tlsCert: o.tlsCert, tlsKey: o.tlsKey };
      c = resolveConnection(flags, { env: process.env, role, devAuthDir: devAuthDirFor(this.namespace()) });
      this.resolved.set(role, c);
    }
    return c;
  }

  /**
   * The light client: it joins no cluster (no heartbeat, not in `node ls`),
   * answers no control requests, and creates no stream or bucket, so a
   * mistyped `--namespace` leaves nothing behind. Opened on first call.
   */
  client(): Promise<TroupeClient> {
    this.opened ??= (async () => {
      const c = this.connection();
      return connectClient({
        servers: c.servers,
        credentials: c.credentials,
        tls: c.tls,
        namespace: this.namespace(),
        // With credentials, the client takes its JWT's name: the only one it may sign as.
        name: c.credentials === undefined ? `agentctl-${process.pid}-${randomBytes(2).toString("hex")}` : undefined,
      });
    })();
    return this.opened;
  }

  /** Whether the namespace was chosen (by `-n` or TROUPE_NAMESPACE), rather than left at its default. */
  namespaceChosen(): boolean {
    return this.program.getOptionValueSource("namespace") !== "default";
  }

  /** Close the client if it was opened (bounded, so a lost server cannot hang the exit). */
  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (!opened) return;
    const client = await opened.catch(() => undefined);
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.close().catch(() => {}),
      new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }

  /** Report an error: one sentence on stderr (plus usage for a usage error), and its exit code. */
  fail(err: unknown, cmd?: Command): void {
    const code = exitCodeOf(err);
    this.out.note(`error: ${errorSentence(err)}`);
    if (process.env.AGENTCTL_DEBUG && err instanceof Error && err.stack) this.out.note(err.stack);
    if (code === ExitCode.Usage && cmd) this.out.note(usageHint(cmd));
    this.exitCode = code;
  }

  /**
   * Wrap a command's action: its returned number (default 0) becomes the exit
   * code, a thrown error is reported by {@link Factory.fail}, and the client
   * is closed either way.
   *
   * @example
   * cmd.action(f.action(async (id: string) => { await (await f.client()).stop(id); }));
   */
  action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      const cmd = args[args.length - 1] as Command;
      try {
        this.exitCode = (await fn(...args)) ?? ExitCode.Ok;
      } catch (err) {
        this.fail(err, cmd);
      } finally {
        await this.close();
      }
    };
  }
}
