// What any process may ask of a namespace's cluster, whether it hosts agents
// (a node) or only calls them (a client): control requests to a node or to a
// type's pool (spawn, stop, kill, list, tree), lookups in the registry and the
// membership, persisted state, and the event stream. Hosting stays in node.ts.
// A node's agents are listed page by page, each page its own request.

import { storedStateValue } from "./timer-record.js";
import { nuid } from "@nats-io/nats-core";
import { RestartType } from "../supervisors/strategy.js";
import type { AgentInfo } from "./agent-host.js";
import type { Clock } from "./clock.js";
import type { Control, ListRequest } from "./control.js";
import { decodeEnvelope } from "./envelope.js";
import { AgentNotFoundError, AskTimeoutError, InvalidArgumentError, InvalidMessageError, NoNodeForTypeError, PermissionDeniedError, SupervisorNotFoundError } from "./errors.js";
import type { EventKind, TroupeEvent } from "./events.js";
import type { ListPage } from "./list-page.js";
import type { Membership, NodeInfo } from "./membership.js";
import type { Messenger } from "./messenger.js";
import type { SpawnOptions } from "./node-options.js";
import type { Registry } from "./registry.js";
import type { StateStore } from "./state-store.js";
import { parseAgentId, validateToken, type AgentId, type Subjects } from "./subjects.js";
import type { TreeNode } from "./supervisor.js";

/** The supervision tree of one node. */
export interface NodeTree {
  node: string;
  id: "root";
  strategy: "one_for_one";
  children: TreeNode[];
}

/** A spawn request: the control message that asks a node to start an agent. */
export type SpawnRequest = Extract<Control, { op: "spawn" }>;

/** Extra time a remote stop gets beyond the ask timeout (a child's shutdownMs is 5 s by default). */
const STOP_ALLOWANCE_MS = 30_000;

/** The namespace's cluster buckets, opened when first needed (a node has them at once, a client on first use). */
export interface ClusterBuckets {
  membership(): Promise<Membership>;
  registry(): Promise<Registry>;
  stateStore(): Promise<StateStore>;
}

/** A node's own answers, used instead of a request to itself. */
export interface LocalAnswers {
  readonly id: string;
  list(): Promise<AgentInfo[]>;
  tree(): NodeTree;
}

/** Settings the calls need from their owner. */
export interface ClusterCallOptions {
  readonly namespace: string;
  readonly clock: Clock;
  readonly askTimeoutMs: number;
  readonly spawnWaitMs: number;
  /** Written as the sender of every request. */
  readonly sender: string;
}

/**
 * The spawn request for `type` with `options`, checked: the type, the key (a
 * fresh one when not given), the node name and the restart type.
 *
 * @throws InvalidArgumentError
 */
export function spawnRequest(type: string, options: SpawnOptions): SpawnRequest {
  validateToken("agent type", type);
  const key = options.key ?? nuid.next();
  validateToken("agent key", key);
  if (options.restart !== undefined && !Object.values(RestartType).includes(options.restart)) {
    throw new InvalidArgumentError("restart", `restart must be one of ${Object.values(RestartType).join(", ")}, got ${JSON.stringify(options.restart)}`);
  }
  if (options.node !== undefined) validateToken("node name", options.node);
  return {
    op: "spawn",
    type,
    key,
    args: options.args,
    supervisor: options.supervisor,
    restart: options.restart,
    shutdownMs: options.shutdownMs,
  };
}

/** Requests and lookups any process can make of the cluster. */
export class ClusterCalls {
  constructor(
    private readonly messenger: Messenger,
    private readonly subjects: Subjects,
    private readonly buckets: ClusterBuckets,
    private readonly o: ClusterCallOptions,
  ) {}

  /** Send a control request and wait for the answer; `noResponders` makes the error for "nobody listens". */
  control(subject: string, body: Control, noResponders?: () => Error, timeoutMs = this.o.askTimeoutMs): Promise<unknown> {
    return this.messenger.control(subject, body, timeoutMs, this.o.sender, noResponders);
  }

  /** Every live node of the namespace. */
  async nodes(): Promise<NodeInfo[]> {
    return (await this.buckets.membership()).alive();
  }

  /** Start an agent on the node named `node`. */
  async spawnOnNode(node: string, request: SpawnRequest): Promise<void> {
    await this.control(
      this.subjects.nodeControl(node, request.type),
      request,
      () => new InvalidArgumentError("node", `no node named "${node}" answers in namespace "${this.o.namespace}"`),
    );
  }

  /** Start an agent under the supervisor agent `supervisor`, on the node that runs it. */
  async spawnUnder(supervisor: string, request: SpawnRequest): Promise<void> {
    const { type, key } = parseAgentId(supervisor);
    const where = await (await this.buckets.registry()).lookup(type, key);
    if (!where || !where.live) throw new SupervisorNotFoundError(supervisor);
    await this.control(this.subjects.nodeControl(where.reg.node, request.type), request, () => new SupervisorNotFoundError(supervisor));
  }

  /** Start an agent on any node that hosts its type, waiting up to `spawnWaitMs` for one to appear. */
  async spawnInPool(request: SpawnRequest): Promise<void> {
    const { clock, spawnWaitMs } = this.o;
    const deadline = clock.now() + spawnWaitMs;
    for (;;) {
      try {
        await this.control(this.subjects.poolSpawn(request.type), request, () => new NoNodeForTypeError(request.type, spawnWaitMs));
        return;
      } catch (err) {
        if (!(err instanceof NoNodeForTypeError) || clock.now() >= deadline) throw err;
        await clock.sleep(100);
      }
    }
  }

  /** Stop `id` on the node the registry names for it. @throws AgentNotFoundError when it runs nowhere */
  async stopRemote(id: AgentId): Promise<void> {
    const node = await this.runningOn(id);
    // A stop may take the agent's shutdownMs and a commit: allow for it beyond the ask timeout.
    await this.control(this.subjects.nodeControl(node, parseAgentId(id).type), { op: "stop", id }, () => new AgentNotFoundError(id), this.o.askTimeoutMs + STOP_ALLOWANCE_MS);
  }

  /** Make `id` fail on the node the registry names for it. @throws AgentNotFoundError when it runs nowhere */
  async killRemote(id: AgentId, reason: string): Promise<void> {
    const node = await this.runningOn(id);
    await this.control(this.subjects.nodeControl(node, parseAgentId(id).type), { op: "kill", id, reason }, () => new AgentNotFoundError(id));
  }

  /**
   * Make sure an on-demand agent runs, activating it if it runs nowhere;
   * resolves with its node. An agent of a spawn-only type must be running.
   *
   * @throws AgentNotFoundError (spawn-only and not running, or no node hosts its type), AskTimeoutError
   */
  async activate(id: string): Promise<string> {
    const { type, key } = parseAgentId(id);
    const deadline = this.o.clock.now() + this.o.askTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const node = await this.whereIs(id);
      if (node !== undefined) return node;
      // Resolves once it runs, or after a pause while another node holds its claim.
      try {
        await this.messenger.activator.activate(id as AgentId, type, key, deadline, attempt);
      } catch (err) {
        // The activator knows only the time left; the caller's error names the whole timeout.
        throw err instanceof AskTimeoutError ? new AskTimeoutError(id, this.o.askTimeoutMs) : err;
      }
    }
  }

  private async runningOn(id: AgentId): Promise<string> {
    const node = await this.whereIs(id);
    if (node === undefined) throw new AgentNotFoundError(id);
    return node;
  }

  /**
   * Every agent on the node named `node`, asked for page after page until the
   * last (each request waits up to `timeoutMs`). `noResponders` makes the
   * error for "no such node".
   *
   * @throws AskTimeoutError, InvalidMessageError (a page that does not move on), or the error of `noResponders`
   */
  async listNode(node: string, timeoutMs: number, noResponders?: () => Error): Promise<AgentInfo[]> {
    const agents: AgentInfo[] = [];
    let after: AgentId | undefined;
    for (;;) {
      const request: ListRequest = after === undefined ? { op: "list" } : { op: "list", after };
      const page = checkedPage(node, after, await this.control(this.subjects.nodeInfo(node), request, noResponders, timeoutMs));
      for (const a of page.agents) agents.push(a);
      if (page.next === undefined) return agents;
      after = page.next;
    }
  }

  /** Every agent in the namespace, asking each live node (`local` answers for itself); silent nodes are listed in `unreachable`. */
  async listAll(timeoutMs: number, local?: LocalAnswers): Promise<{ agents: AgentInfo[]; nodes: NodeInfo[]; unreachable: string[] }> {
    const nodes = await this.nodes();
    const unreachable: string[] = [];
    const lists = await Promise.all(
      nodes.map(async (n) => {
        if (n.id === local?.id) return local.list();
        try {
          return await this.listNode(n.id, timeoutMs);
        } catch (err) {
          // Refused by the server: not a silent node, a credential that may not list.
          if (err instanceof PermissionDeniedError) throw err;
          unreachable.push(n.id);
          return [];
        }
      }),
    );
    // Code-unit order, as each node pages them (a locale comparison is slow for 100,000 ids).
    return { agents: lists.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), nodes, unreachable };
  }

  /** The supervision trees of every live node that answers (`local` answers for itself). */
  async treeAll(timeoutMs: number, local?: LocalAnswers): Promise<NodeTree[]> {
    const nodes = await this.nodes();
    const trees = await Promise.all(
      nodes.map(async (n) => {
        if (n.id === local?.id) return local.tree();
        try {
          return (await this.control(this.subjects.nodeInfo(n.id), { op: "tree" }, undefined, timeoutMs)) as NodeTree;
        } catch (err) {
          if (err instanceof PermissionDeniedError) throw err;
          return undefined;
        }
      }),
    );
    return trees.filter((t): t is NodeTree => !!t);
  }

  /** Where an agent runs, from the registry; undefined when it does not run. */
  async whereIs(id: string): Promise<string | undefined> {
    const { type, key } = parseAgentId(id);
    const where = await (await this.buckets.registry()).lookup(type, key);
    return where && where.live ? where.reg.node : undefined;
  }

  /** Every agent with persisted state, running or not (`agentctl ps --all`). */
  async persistedIds(): Promise<AgentId[]> {
    return (await this.buckets.stateStore()).ids();
  }

  /** The persisted state of an agent and its revision, or undefined. */
  async persistedState(id: string): Promise<{ value: unknown; revision: number } | undefined> {
    const { type, key } = parseAgentId(id);
    const stored = await (await this.buckets.stateStore()).load(type, key);
    // A core agent with timers stores its state inside a timer record: the state is what it holds.
    return stored.bytes ? { value: storedStateValue(stored.bytes), revision: stored.revision } : undefined;
  }

  /**
   * Subscribe to lifecycle and supervision events of the namespace.
   * Returns a function that unsubscribes.
   */
  onEvent(handler: (event: TroupeEvent) => void, filter: { kind?: EventKind; type?: string; key?: string } = {}): () => void {
    const sub = this.messenger.nc.subscribe(this.subjects.events(filter.kind, filter.type, filter.key), {
      callback: (err, msg) => {
        if (err) return;
        try {
          handler(decodeEnvelope(msg.data, Number.MAX_SAFE_INTEGER).body as TroupeEvent);
        } catch {
          // a bad event or a throwing handler must not break the subscription
        }
      },
    });
    return () => sub.unsubscribe();
  }
}

/**
 * A list reply, checked: a page whose `next` sorts after the id it was asked
 * after and is its own last agent's id (so listing ends), or the whole list as an array (a node that
 * answers `list` without pages).
 */
function checkedPage(node: string, after: AgentId | undefined, reply: unknown): ListPage {
  if (Array.isArray(reply)) return { agents: reply as AgentInfo[] };
  const page = reply as Partial<ListPage> | null;
  if (page === null || typeof page !== "object" || !Array.isArray(page.agents)) {
    throw new InvalidMessageError(`node ${node} answered a list request with something other than a page of agents`);
  }
  if (page.next !== undefined && page.next !== null) {
    if (typeof page.next !== "string" || (after !== undefined && page.next <= after)) {
      throw new InvalidMessageError(`node ${node} answered a list page whose next id does not move past ${after ?? "the start"}`);
    }
    // A page that goes on names its own last agent: an empty page that only moves `next` would never end.
    const last = page.agents[page.agents.length - 1] as Partial<AgentInfo> | undefined;
    if (last?.id !== page.next) {
      throw new InvalidMessageError(`node ${node} answered a list page whose next id is not its last agent's`);
    }
    return { agents: page.agents, next: page.next };
  }
  return { agents: page.agents };
}

/** The AgentId of a ref or an id string, checked; anything else is an InvalidArgumentError. */
export function targetId(target: { readonly id: string } | string): AgentId {
  const id = typeof target === "string" ? target : target !== null && typeof target === "object" ? target.id : undefined;
  if (typeof id !== "string") throw new InvalidArgumentError("agent", `expected an agent ref or an id (TYPE/KEY), got ${target === null ? "null" : typeof target}`);
  parseAgentId(id);
  return id as AgentId;
}
