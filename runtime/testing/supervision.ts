// Test helpers for supervision against a real server: a node per test in its
// own namespace (closed after the test), polling with a deadline, event and
// dead-letter recorders, and a probe agent that records its activations.
//
//   const nats = useNatsServer();
//   const nodes = useNodes(nats);
//   it("...", async () => {
//     const probe = new Probe();
//     const node = await nodes.start([probeAgent("w", probe), team]);
//     await waitFor(() => probe.starts("w/a") === 2, "w/a restarted");
//   });

import { afterEach } from "vitest";
import { defineAgent, type AgentContext, type AgentType } from "../define-agent.js";
import type { SupervisorType } from "../define-supervisor.js";
import { decodeEnvelope } from "../envelope.js";
import type { EventKind, TroupeEvent } from "../events.js";
import type { DeadLetter } from "../dead-letters.js";
import { startNode, type NodeOptions, type TroupeNode } from "../node.js";
import { Subjects } from "../subjects.js";
import { waitFor } from "./wait.js";

export { waitFor };

/** Starts nodes in fresh namespaces and closes them after each test. */
export function useNodes(target: { readonly url: string }): {
  start(agents: ReadonlyArray<AgentType | SupervisorType>, options?: Omit<NodeOptions, "servers" | "agents">): Promise<TroupeNode>;
} {
  const open: TroupeNode[] = [];
  let seq = 0;
  const prefix = `s${process.pid}${Math.floor(Math.random() * 1e6)}`;
  afterEach(async () => {
    const nodes = open.splice(0);
    await Promise.all(nodes.map((n) => n.close().catch(() => {})));
  });
  return {
    async start(agents, options = {}) {
      const node = await startNode({ namespace: `${prefix}-${++seq}`, ...options, servers: target.url, agents });
      open.push(node);
      return node;
    },
  };
}


/** Plain wall-clock sleep, for test code only. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Record the node's events (optionally of one kind) into an array. */
export function recordEvents(node: TroupeNode, kind?: EventKind): TroupeEvent[] {
  const events: TroupeEvent[] = [];
  node.onEvent((e) => events.push(e), kind ? { kind } : {});
  return events;
}

/** Record the dead letters of one agent. */
export function recordDeadLetters(node: TroupeNode, type: string, key: string): DeadLetter[] {
  const letters: DeadLetter[] = [];
  const subject = new Subjects(node.namespace).deadLetter(type, key);
  node.connection.subscribe(subject, {
    callback: (err, msg) => {
      if (!err) letters.push(decodeEnvelope(msg.data, Number.MAX_SAFE_INTEGER).body as DeadLetter);
    },
  });
  return letters;
}

/** What probe agents saw: activations, stops, and handled messages, in order. */
export class Probe {
  /** `start:<id>` and `stop:<id>`, in the order the hooks ran. */
  readonly log: string[] = [];
  private readonly startCount = new Map<string, number>();
  private readonly handledOps = new Map<string, number>();

  /** How many activations of `id` started (onStart ran). */
  starts(id: string): number {
    return this.startCount.get(id) ?? 0;
  }

  /** How many times `id` got a message with op `op`. */
  seen(id: string, op: string): number {
    return this.handledOps.get(`${id} ${op}`) ?? 0;
  }

  /** The log entries after the first `n`. */
  since(n: number): string[] {
    return this.log.slice(n);
  }

  /** @internal */
  started(id: string): number {
    const n = this.starts(id) + 1;
    this.startCount.set(id, n);
    this.log.push(`start:${id}`);
    return n;
  }

  /** @internal */
  handled(id: string, op: string): void {
    this.handledOps.set(`${id} ${op}`, this.seen(id, op) + 1);
  }
}

/** The messages a probe agent takes. */
export type ProbeMsg =
  | { op: "inc" }
  | { op: "get" }
  | { op: "crash"; why?: string }
  | { op: "stop" }
  | { op: "hang"; ms: number; crash?: boolean };

/** What `{ op: "get" }` answers. */
export interface ProbeView {
  n: number;
  activation: number;
}

/** Options of {@link probeAgent}. */
export interface ProbeOptions {
  persist?: boolean;
  receiveTimeoutMs?: number;
  mailboxCapacity?: number;
  /** Make onStart throw for this activation (1-based) of this agent. */
  failStart?: (id: string, activation: number) => boolean;
}

/**
 * An agent type that records into `probe`. State `{ n }` starts at
 * `args.start` (default 0). Ops: `inc` (returns n), `get` ({ n, activation }),
 * `crash` (throws), `stop` (ctx.stop()), `hang` (waits `ms`, then answers "late",
 * or throws with `crash: true`).
 */
export function probeAgent(type: string, probe: Probe, options: ProbeOptions = {}): AgentType {
  const activation = new Map<string, number>();
  return defineAgent<{ n: number }, ProbeMsg, unknown>({
    type,
    persist: options.persist,
    receiveTimeoutMs: options.receiveTimeoutMs,
    mailboxCapacity: options.mailboxCapacity,
    state: (args) => ({ n: (args as { start?: number } | undefined)?.start ?? 0 }),
    onStart(ctx: AgentContext<{ n: number }>) {
      const n = probe.started(ctx.id);
      activation.set(ctx.id, n);
      if (options.failStart?.(ctx.id, n)) throw new Error(`start ${n} of ${ctx.id} refused`);
    },
    onStop(ctx) {
      probe.log.push(`stop:${ctx.id}`);
    },
    receive(msg, ctx) {
      probe.handled(ctx.id, msg.op);
      switch (msg.op) {
        case "inc":
          ctx.state.n += 1;
          return ctx.state.n;
        case "get":
          return { n: ctx.state.n, activation: activation.get(ctx.id) ?? 0 } satisfies ProbeView;
        case "crash":
          throw new Error(msg.why ?? "boom");
        case "stop":
          ctx.stop();
          return "bye";
        case "hang":
          return sleep(msg.ms).then(() => {
            if (msg.crash) throw new Error("crashed after hanging");
            return "late";
          });
      }
    },
  });
}
