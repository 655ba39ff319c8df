// The nats-server binary for `agentctl dev` and `agentctl demo`: the one
// findNatsServer() picks, or else one installed by scripts/ensure-nats-server.sh.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { findNatsServer, NatsServerMissingError } from "../runtime/testing/nats-server.js";
import { packageRoot } from "./package-root.js";

/**
 * The path of a usable nats-server. When none is found, runs the project's
 * install script (its progress goes to stderr) and remembers the result in
 * NATS_SERVER_BIN, so startNatsServer() uses it too.
 *
 * @throws NatsServerMissingError when the script cannot provide one either
 */
export function natsServerBinary(note: (text: string) => void): string {
  try {
    return findNatsServer();
  } catch (err) {
    if (!(err instanceof NatsServerMissingError)) throw err;
    const script = join(packageRoot(), "scripts", "ensure-nats-server.sh");
    note("no nats-server found; installing one with scripts/ensure-nats-server.sh");
    const run = spawnSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const path = run.stdout?.trim().split("\n").pop() ?? "";
    if (run.status !== 0 || path === "") throw err;
    process.env.NATS_SERVER_BIN = path;
    return path;
  }
}
