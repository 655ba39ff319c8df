#!/usr/bin/env node
// agentctl: the command-line entry. Parses the command line, runs one
// command, and exits with its documented code (see `agentctl --help`).

import { CommanderError } from "commander";
import { ExitCode } from "./exit-code.js";
import { buildProgram } from "./program.js";

const { program, factory } = buildProgram();

// Nothing escapes as a stack trace: a failure nobody caught is still one sentence.
const lastResort = (err: unknown): void => {
  factory.fail(err);
  process.exit(factory.exitCode);
};
process.on("uncaughtException", lastResort);
process.on("unhandledRejection", lastResort);
// A reader that went away (`agentctl ps | head -1`) is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(factory.exitCode);
  lastResort(err);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) factory.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  else factory.fail(err);
}
process.exitCode = factory.exitCode;
// Everything is closed by now; should some handle linger, do not wait on it for long.
setTimeout(() => process.exit(factory.exitCode), 2000).unref();
