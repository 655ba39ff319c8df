// Starts the hostile tests' victim node (victim-main.ts) in a child process
// and watches it: whether it is still running, and what it wrote to stderr.

import { startTestChild, type TestChild } from "../test-child.js";

/** A victim node process. */
export type Victim = Omit<TestChild, "kill">;

/** Start the victim with Node's default `--unhandled-rejections=throw` and the given Node flags. */
export function startVictim(o: { servers: string; namespace: string; name: string; nodeArgs?: string[] }): Promise<Victim> {
  return startTestChild({
    main: new URL("./victim-main.ts", import.meta.url),
    args: ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name],
    label: "victim",
    ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
  });
}
