// Starts a model node (model-node-main.ts) in a child process for the
// resume-after-crash tests, and collects what its looper's tool reports.

import { startTestChild, type TestChild } from "../test-child.js";
import type { StepReport } from "./looper.js";

/** A model node process. */
export interface ModelNode extends TestChild {
  /** What its looper's tool reported, in order. */
  readonly reports: readonly StepReport[];
}

/** Start a model node and wait until it serves. */
export async function startModelNode(o: { servers: string; namespace: string; name: string; modelUrl: string; toolMs: number }): Promise<ModelNode> {
  const reports: StepReport[] = [];
  const child = await startTestChild({
    main: new URL("./model-node-main.ts", import.meta.url),
    args: ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name, "--model-url", o.modelUrl, "--tool-ms", String(o.toolMs)],
    label: `model node ${o.name}`,
    onLine: (msg) => {
      if (typeof msg.started === "string") reports.push({ started: msg.started });
      if (typeof msg.finished === "string") reports.push({ finished: msg.finished });
    },
  });
  return Object.assign(child, { reports });
}
