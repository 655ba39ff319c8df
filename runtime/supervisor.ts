// The supervisor at run time: a thin shell that carries out the pure
// decisions of supervisor-state.ts on live agent hosts. It starts children in
// order, stops them in reverse order, restarts them after backoff, and
// escalates when intensity runs out. One decision is carried out at a time;
// a decision that throws is reported as a `supervisor_error` event.

import type { Child, ChildExit, ChildInfo, Parent } from "./child.js";
import type { Clock } from "./clock.js";
import { EventKind, type EventPublisher } from "./events.js";
import { AgentExistsError, AgentFencedError, AgentStoppedError, errorSummary, errorText, SupervisorNotFoundError } from "./errors.js";
import type { NormalizedChildSpec, NormalizedSupervisorSpec } from "../supervisors/child-spec.js";
import { ExitKind } from "../supervisors/strategy.js";
import { checked } from "./specs.js";
import { formatAgentId, parseAgentId } from "./subjects.js";
import {
  addChild,
  applyDecision,
  ChildStatus,
  childStarted,
  createSupervisorState,
  crashReport,
  decideOnExit,
  findChild,
  findChildOfAgent,
  removeChild,
  type ChildState,
  type SupervisorState,
} from "../supervisors/supervisor-state.js";

/** Delay before a restart whose registry claim failed is tried again. */
const RECLAIM_RETRY_MS = 1000;

/** How many agents given up on a supervisor keeps listing (newest first out last) after forgetting them. */
export const GIVEN_UP_KEPT = 16;

/** How many children a root supervisor stops at once when it shuts down (they are independent of one another). */
export const SHUTDOWN_CONCURRENCY = 256;

/** What a supervisor needs from its node. */
export interface SupervisorEnv {
  clock: Clock;
  random: () => number;
  events: EventPublisher;
  /** Claim the child's AgentId and make its host (not started yet). */
  createHost(spec: NormalizedChildSpec, parent: Parent): Promise<Child>;
  /** The host stopped for good: forget it and release its claim. */
  releaseHost(host: Child): Promise<void>;
}

/** A child as `agentctl tree` shows it. */
export interface TreeNode {
  id: string;
  childId?: string;
  state: string;
  restarts: number;
  strategy?: string;
  children?: TreeNode[];
}

/** Runs the children of one supervisor (a supervisor agent, or a node's root). */
export class Supervisor implements Parent {
  private readonly state: SupervisorState;
  /** Hosts by child id. */
  private readonly hosts = new Map<string, Child>();
  /**
   * The child id of each host whose child id is not its agent id (static
   * children of supervisor agents); a spawned child's id is its agent id, so
   * the root keeps nothing here.
   */
  private readonly otherIds = new Map<Child, string>();
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  /** Per child id, the decision whose restart is pending: a delayed restart superseded by a newer decision is dropped. */
  private readonly pendingRestart = new Map<string, number>();
  private decisions = 0;
  /**
   * Per child, the last activation this supervisor ended itself (for a
   * sibling's restart, or a stop). An exit of that activation, or an older
   * one, is its own doing: reported, never decided on a second time.
   */
  private readonly ended = new WeakMap<Child, number>();
  /**
   * The last {@link GIVEN_UP_KEPT} children given up on (root supervisor),
   * oldest first, as they were when given up on: they are no longer children,
   * but `list()` and `tree()` still show them. A new start of the agent
   * removes its entry.
   */
  private givenUp: Array<{ child: ChildState; info: ChildInfo }> = [];

  constructor(
    readonly id: string,
    spec: NormalizedSupervisorSpec,
    private readonly env: SupervisorEnv,
    private readonly options: { perChildIntensity?: boolean; onEscalate?: (reason: string) => void } = {},
  ) {
    this.state = createSupervisorState({ ...spec, children: [] }, { perChildIntensity: options.perChildIntensity });
  }

  /** The host of a child id, if running here. */
  host(childId: string): Child | undefined {
    return this.hosts.get(childId);
  }

  /** The agents given up on lately (at most {@link GIVEN_UP_KEPT}), oldest first, in state `failed`. */
  givenUpAgents(): ChildInfo[] {
    return this.givenUp.map((g) => g.info);
  }

  /** Hosts in start order. */
  get children(): Child[] {
    const out: Child[] = [];
    for (const id of this.state.children.keys()) {
      const host = this.hosts.get(id);
      if (host) out.push(host);
    }
    return out;
  }

  /** Start children in order; a child that fails to start is handled like any failure. */
  async startChildren(specs: readonly NormalizedChildSpec[]): Promise<void> {
    for (const spec of specs) {
      try {
        await this.startChild(spec);
      } catch {
        // Reported: a failed start through childExited (the decision is being
        // carried out), a failed claim as child_failed by startChild.
      }
    }
    await this.idle();
  }

  /**
   * Add a child after the others and start it (OTP start_child). A `dynamic`
   * child (spawned at run time) whose first start fails is removed and the
   * error is thrown to the spawner; a static child's failed start is handled
   * like any failure.
   */
  async startChild(spec: NormalizedChildSpec, options: { dynamic?: boolean } = {}): Promise<Child> {
    if (this.closed) throw new SupervisorNotFoundError(this.id);
    // A child that exited for good (a transient's normal exit, or given up
    // on) is replaced by a new start of the same id or agent; one that still
    // runs, or is starting (a concurrent spawn of the same agent), is not.
    for (const old of [findChild(this.state, spec.id), findChildOfAgent(this.state, spec.type, spec.key)]) {
      if (old && (old.status === ChildStatus.Stopped || old.status === ChildStatus.Failed) && !this.hosts.has(old.spec.id)) removeChild(this.state, old.spec.id);
    }
    if (findChildOfAgent(this.state, spec.type, spec.key) || this.hosts.has(spec.id)) {
      // Running, starting (a concurrent spawn of the same agent), or still being stopped.
      throw new AgentExistsError(formatAgentId(spec.type, spec.key));
    }
    checked(() => addChild(this.state, spec));
    this.givenUp = this.givenUp.filter((g) => g.child.spec.id !== spec.id && g.info.id !== formatAgentId(spec.type, spec.key));
    let host: Child;
    try {
      host = await this.env.createHost(spec, this);
    } catch (err) {
      removeChild(this.state, spec.id);
      if (!options.dynamic) {
        // Could not be claimed (it runs elsewhere, JetStream is down): no host
        // reports this one, and startChildren goes on with the next child.
        this.env.events.publish(EventKind.ChildFailed, spec.type, spec.key, {
          supervisor: this.id,
          child: formatAgentId(spec.type, spec.key),
          childId: spec.id,
          reason: `start failed: ${errorText(err)}`,
          restartCount: 0,
        });
      }
      throw err;
    }
    this.setHost(spec.id, host);
    try {
      await host.start({ report: !options.dynamic });
    } catch (err) {
      if (options.dynamic) {
        removeChild(this.state, spec.id);
        this.deleteHost(spec.id);
        // Stopped while starting (stopChild, shutdown): that stop finishes and releases it;
        // a second stop beside it would end the lifecycle before the first is done.
        if (this.ended.get(host) !== host.activation) {
          await host.stop(0, "failed to start");
          await this.env.releaseHost(host);
        }
      }
      throw err;
    }
    if (this.closed) {
      // The supervisor shut down while this child was starting: it must not outlive it.
      removeChild(this.state, spec.id);
      await this.stopForGood(host, spec.shutdownMs, "stopped");
      throw new SupervisorNotFoundError(this.id);
    }
    childStarted(this.state, spec.id);
    this.env.events.publish(EventKind.ChildStarted, spec.type, spec.key, { supervisor: this.id, childId: spec.id });
    return host;
  }

  /** Resolves when every decision taken so far has been carried out. */
  idle(): Promise<void> {
    return this.work;
  }

  /** A child's activation ended on its own. */
  childExited(child: Child, exit: ChildExit): void {
    this.enqueue(`decide on the ${exit.kind} exit of ${child.id}`, child.id, () => this.onExit(child, exit));
  }

  /**
   * Stop a child for good and forget it (node.stop, agentctl stop): it is not
   * restarted. `child` is its child id or its agent id (`type/key`).
   */
  async stopChild(child: string): Promise<void> {
    // Forget the child in turn with other decisions, but wait for its stop outside the queue:
    // one slow shutdown must not hold up the restarts of its siblings.
    let host: Child | undefined;
    let shutdownMs = 0;
    await this.enqueueAndWait(async () => {
      const spec = this.childByIdOrAgent(child)?.spec;
      if (!spec) return;
      host = this.hosts.get(spec.id);
      shutdownMs = spec.shutdownMs;
      removeChild(this.state, spec.id);
      this.pendingRestart.delete(spec.id);
    });
    if (host) await this.stopForGood(host, shutdownMs, "stopped");
  }

  /**
   * Stop every child, each within its shutdownMs: one after another in
   * reverse start order; a root supervisor's children, which are
   * independent of one another (as OTP's simple_one_for_one), are begun in
   * reverse start order with up to {@link SHUTDOWN_CONCURRENCY} stopping at once.
   */
  shutdown(): Promise<void> {
    this.closed = true;
    this.pendingRestart.clear();
    return this.enqueueAndWait(async () => {
      const stops = [...this.state.children.values()].reverse().map((c) => async (): Promise<void> => {
        // Forgotten as its stop begins: the host goes with it.
        removeChild(this.state, c.spec.id);
        const host = this.hosts.get(c.spec.id);
        if (host) await this.stopForGood(host, c.spec.shutdownMs, "stopped");
      });
      await runAll(stops, this.state.perChildIntensity ? SHUTDOWN_CONCURRENCY : 1);
    });
  }

  /** Restart strategy of this supervisor. */
  get strategy(): string {
    return this.state.spec.strategy;
  }

  /**
   * The subtree under this supervisor; `nested(host)` finds children that are
   * supervisors themselves. Children given up on lately come last, `failed`.
   */
  tree(nested: (host: Child) => Supervisor | undefined): TreeNode[] {
    const gone = this.givenUp.map(
      (g): TreeNode => ({ id: g.info.id, childId: g.child.spec.id, state: g.info.state, restarts: g.child.restartCount }),
    );
    const live = [...this.state.children.values()].map((c) => {
      const host = this.hosts.get(c.spec.id);
      const node: TreeNode = {
        id: formatAgentId(c.spec.type, c.spec.key),
        childId: c.spec.id,
        state: host ? host.state : c.status,
        restarts: c.restartCount,
      };
      const sub = host ? nested(host) : undefined;
      if (sub) {
        node.strategy = sub.strategy;
        node.children = sub.tree(nested);
      }
      return node;
    });
    return [...live, ...gone];
  }

  /** The agent id (`type/key`) of a child id, or the supervisor's own id when it is no child. */
  private agentOf(childId: string | undefined): string {
    const c = childId === undefined ? undefined : findChild(this.state, childId);
    return c ? formatAgentId(c.spec.type, c.spec.key) : this.id;
  }

  private childByIdOrAgent(child: string): ChildState | undefined {
    const byId = findChild(this.state, child);
    if (byId) return byId;
    try {
      const { type, key } = parseAgentId(child);
      return findChildOfAgent(this.state, type, key);
    } catch {
      return undefined; // not an agent id
    }
  }

  /**
   * Queue a decision job. One that throws (a host that cannot be stopped, a
   * registry that cannot be written) is reported as a `supervisor_error`
   * event about agent `about`, and the queue goes on with the next job.
   */
  private enqueue(what: string, about: string, job: () => Promise<void>): void {
    this.work = this.work.then(job).catch((err: unknown) => this.reportError(what, about, err));
  }

  private reportError(what: string, about: string, err: unknown): void {
    const [type, key] = splitId(about);
    this.env.events.publish(EventKind.SupervisorError, type, key, {
      supervisor: this.id,
      job: what,
      error: errorSummary(err),
    });
  }

  private enqueueAndWait(job: () => Promise<void>): Promise<void> {
    const done = this.work.then(job);
    this.work = done.catch(() => {});
    return done;
  }

  /** The child id a host runs under, while it is one of this supervisor's hosts. */
  private childIdOf(host: Child): string | undefined {
    if (this.hosts.get(host.id) === host) return host.id;
    const id = this.otherIds.get(host);
    return id !== undefined && this.hosts.get(id) === host ? id : undefined;
  }

  private setHost(childId: string, host: Child): void {
    const old = this.hosts.get(childId);
    if (old && old !== host) this.otherIds.delete(old);
    this.hosts.set(childId, host);
    if (childId !== host.id) this.otherIds.set(host, childId);
  }

  private deleteHost(childId: string): void {
    const host = this.hosts.get(childId);
    if (host) this.otherIds.delete(host);
    this.hosts.delete(childId);
  }

  private async onExit(host: Child, exit: ChildExit): Promise<void> {
    const childId = this.childIdOf(host);
    if (childId === undefined || this.closed) return;
    const spec = findChild(this.state, childId)?.spec;
    if (!spec) return;
    if (exit.activation <= (this.ended.get(host) ?? 0)) {
      // The activation had already been ended by this supervisor (stopped for
      // a sibling's restart) when it failed: reported, not decided on again.
      if (exit.kind === "failure") {
        const child = findChild(this.state, childId)!;
        this.env.events.publish(EventKind.ChildFailed, spec.type, spec.key, {
          ...crashReport({ supervisor: this.id, child, agent: formatAgentId(child.spec.type, child.spec.key), reason: ExitKind.Failure, error: exit.reason, messageType: exit.messageType }),
        });
      }
      return;
    }
    if (exit.kind === "fenced") {
      // A newer activation owns the state elsewhere: this one leaves quietly.
      removeChild(this.state, childId);
      await this.stopForGood(host, 0, "fenced");
      return;
    }
    const reason = exit.kind === "failure" ? ExitKind.Failure : ExitKind.Normal;
    const decision = decideOnExit(this.state, childId, reason, this.env.clock.now(), this.env.random);
    const before = findChild(this.state, childId);
    applyDecision(this.state, decision);
    const after = findChild(this.state, childId) ?? (decision.action === "give_up" ? decision.failed : before!);
    if (exit.kind === "failure") {
      this.env.events.publish(EventKind.ChildFailed, spec.type, spec.key, {
        ...crashReport({ supervisor: this.id, child: after, agent: formatAgentId(after.spec.type, after.spec.key), reason, error: exit.reason, messageType: exit.messageType }),
      });
    }
    switch (decision.action) {
      case "ignore": {
        await this.stopForGood(host, 0, exit.kind === "normal" ? "exited" : "failed");
        if (!decision.removed) this.deleteHost(childId);
        return;
      }
      case "give_up": {
        // No child any more (the decision removed it), only one of the few
        // agents listed as given up on lately; forgotten even if its stop throws.
        this.env.events.publish(EventKind.MaxIntensity, spec.type, spec.key, {
          supervisor: this.id,
          child: host.id,
          intensity: this.state.spec.intensity,
          periodMs: this.state.spec.periodMs,
        });
        try {
          await host.abandon();
        } finally {
          this.deleteHost(childId);
          this.pendingRestart.delete(childId);
          this.givenUp = [...this.givenUp, { child: decision.failed, info: host.info() }].slice(-GIVEN_UP_KEPT);
        }
        await this.env.releaseHost(host);
        return;
      }
      case "escalate": {
        for (const id of decision.stop) {
          const h = this.hosts.get(id);
          const s = findChild(this.state, id)?.spec;
          if (h) await this.stopForGood(h, s?.shutdownMs ?? 0, "stopped");
        }
        await this.stopForGood(host, 0, "failed");
        this.hosts.clear();
        this.otherIds.clear();
        this.closed = true;
        const [type, key] = splitId(this.id);
        this.env.events.publish(EventKind.MaxIntensity, type, key, {
          supervisor: this.id,
          child: host.id,
          intensity: this.state.spec.intensity,
          periodMs: this.state.spec.periodMs,
        });
        this.options.onEscalate?.(`max restart intensity reached (${this.state.spec.intensity} in ${this.state.spec.periodMs} ms); last failure: ${host.id}`);
        return;
      }
      case "restart": {
        for (const id of decision.stop) {
          const h = this.hosts.get(id);
          const s = findChild(this.state, id)?.spec;
          if (h) await this.endActivation(h, () => h.prepareRestart(s?.shutdownMs ?? 0));
        }
        for (const id of decision.removed) {
          const h = this.hosts.get(id);
          if (h) await this.stopForGood(h, 0, "stopped");
        }
        await this.endActivation(host, () => host.prepareRestart(0));
        const gen = ++this.decisions;
        for (const id of decision.children) this.pendingRestart.set(id, gen);
        this.restartLater(decision.children, decision.delayMs, decision.attempt, gen);
        return;
      }
    }
  }

  /** Start `children` again after `delayMs`, each unless a newer decision superseded this one for it. */
  private restartLater(children: string[], delayMs: number, attempt: number, gen: number): void {
    const run = (): void =>
      this.enqueue(`restart ${children.join(", ")}`, this.agentOf(children[0]), async () => {
        if (this.closed) return;
        for (const id of children) {
          if (this.pendingRestart.get(id) !== gen) continue;
          this.pendingRestart.delete(id);
          const c = findChild(this.state, id);
          if (!c) continue;
          let host = this.hosts.get(id);
          if (!host || host.state === "stopped") {
            try {
              host = await this.env.createHost(c.spec, this);
            } catch (err) {
              // Could not claim it again (JetStream busy, say): report it and try again shortly.
              this.env.events.publish(EventKind.ChildFailed, c.spec.type, c.spec.key, {
                supervisor: this.id,
                child: formatAgentId(c.spec.type, c.spec.key),
                reason: `restart failed: ${errorText(err)}`,
                restartCount: c.restartCount,
              });
              const retry = ++this.decisions;
              this.pendingRestart.set(id, retry);
              this.restartLater([id], RECLAIM_RETRY_MS, attempt, retry);
              continue;
            }
            this.setHost(id, host);
          }
          host.recordRestarts(c.restartCount);
          this.env.events.publish(EventKind.ChildRestarted, c.spec.type, c.spec.key, {
            supervisor: this.id,
            attempt: attempt + 1,
            delayMs,
            restartCount: c.restartCount,
          });
          try {
            await host.start();
            childStarted(this.state, id);
          } catch (err) {
            // Stopped or fenced while starting: whoever did it decides about this child; start the rest.
            if (err instanceof AgentStoppedError || err instanceof AgentFencedError) continue;
            return; // its own failure was reported; the next decision follows
          }
        }
      });
    if (delayMs > 0) this.env.clock.setTimeout(run, delayMs);
    else run();
  }

  /** Run `end` (a stop or a restart's stop) with the host's own exits meanwhile marked as the supervisor's doing. */
  private async endActivation(host: Child, end: () => Promise<void>): Promise<void> {
    this.ended.set(host, host.activation);
    await end();
  }

  private async stopForGood(host: Child, shutdownMs: number, why: string): Promise<void> {
    await this.endActivation(host, () => host.stop(shutdownMs, why));
    const id = this.childIdOf(host);
    if (id !== undefined && !findChild(this.state, id)) this.deleteHost(id);
    this.env.events.publish(EventKind.ChildStopped, host.type, host.key, { supervisor: this.id, why });
    await this.env.releaseHost(host);
  }
}

/** Run `jobs`, at most `concurrency` at a time, each begun in order; resolves when all are done (a failure does not stop the others; the first is thrown). */
async function runAll(jobs: ReadonlyArray<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await job();
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  if (failed) throw failed.err;
}

function splitId(id: string): [string, string] {
  const slash = id.indexOf("/");
  return slash < 0 ? [id, "_"] : [id.slice(0, slash), id.slice(slash + 1)];
}
