// The supervisor shell carrying out decisions on hosts whose stop or restart
// throws: every such failure becomes a `supervisor_error` event, the queue goes
// on, and a child given up on is forgotten whatever its stop did. The hosts
// here are stand-ins (no NATS is involved: the shell only calls their methods).

import { describe, expect, it } from "vitest";
import type { AgentHost, AgentInfo, Parent } from "./agent-host.js";
import { FakeClock } from "./clock.js";
import { EventKind, type EventPublisher } from "./events.js";
import { normalizeChildSpec, normalizeSupervisorSpec, type NormalizedChildSpec } from "../supervisors/child-spec.js";
import { GIVEN_UP_KEPT, Supervisor } from "./supervisor.js";

interface Published {
  kind: string;
  id: string;
  fields: Record<string, unknown>;
}

/** A host that starts at once and whose `abandon` / `prepareRestart` throw when told to. */
class StandInHost {
  state = "starting";
  restarts = 0;
  readonly def: { type: string };
  readonly id: string;
  constructor(
    readonly key: string,
    type: string,
    public parent: Parent,
    private readonly fail: { abandon?: boolean; restart?: boolean },
  ) {
    this.def = { type };
    this.id = `${type}/${key}`;
  }
  activation = 0;
  get type(): string {
    return this.def.type;
  }
  recordRestarts(): void {}
  async start(): Promise<void> {
    this.activation++;
    this.state = "running";
  }
  async stop(): Promise<void> {
    this.state = "stopped";
  }
  async abandon(): Promise<void> {
    if (this.fail.abandon) throw new Error("could not unsubscribe");
  }
  async prepareRestart(): Promise<void> {
    if (this.fail.restart) throw new Error("could not commit");
    this.state = "restarting";
  }
  info(): AgentInfo {
    return { id: this.id, state: this.state, supervisor: this.parent.id } as AgentInfo;
  }
  /** The host reports a failure to its parent, as a throwing receive does. */
  crash(): void {
    this.state = "failed";
    this.parent.childExited(this as unknown as AgentHost, { kind: "failure", reason: "boom", messageType: null, activation: this.activation });
  }
}

function setup(fail: { abandon?: boolean; restart?: boolean; release?: boolean; claim?: string }, intensity: number) {
  const events: Published[] = [];
  const hosts: StandInHost[] = [];
  const publisher = {
    publish: (kind: string, type: string, key: string, fields: Record<string, unknown> = {}) => {
      events.push({ kind, id: `${type}/${key}`, fields });
    },
  } as unknown as EventPublisher;
  const sup = new Supervisor(
    "root",
    normalizeSupervisorSpec({ type: "root", intensity, periodMs: 60_000 }),
    {
      clock: new FakeClock(0),
      random: () => 0.5,
      events: publisher,
      createHost: async (spec: NormalizedChildSpec, parent: Parent) => {
        if (spec.key === fail.claim) throw new Error(`agent ${spec.type}/${spec.key} is already running on node b`);
        const h = new StandInHost(spec.key, spec.type, parent, fail);
        hosts.push(h);
        return h as unknown as AgentHost;
      },
      releaseHost: async () => {
        if (fail.release) throw new Error("registry unavailable");
      },
    },
    { perChildIntensity: true },
  );
  const spawn = (key: string) => sup.startChild(normalizeChildSpec({ id: `w/${key}`, type: "w", key }), { dynamic: true });
  return { sup, events, hosts, spawn };
}

describe("Supervisor: a decision that throws", () => {
  it("is reported as supervisor_error when stopping a child given up on throws, and the child is forgotten", async () => {
    const { sup, events, hosts, spawn } = setup({ abandon: true }, 0);
    await spawn("a");
    hosts[0].crash();
    await sup.idle();
    const errors = events.filter((e) => e.kind === EventKind.SupervisorError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ id: "w/a", fields: { supervisor: "root", error: "Error: could not unsubscribe" } });
    expect(errors[0].fields.job).toContain("w/a");
    expect(sup.children).toEqual([]);
    expect(sup.tree(() => undefined)).toEqual([{ id: "w/a", childId: "w/a", state: "failed", restarts: 0 }]);
    // the queue goes on: the agent can be spawned again
    await spawn("a");
    expect(sup.children.map((h) => h.id)).toEqual(["w/a"]);
    expect(sup.givenUpAgents()).toEqual([]);
  });

  it("is reported as supervisor_error when releasing a child given up on throws", async () => {
    const { sup, events, hosts, spawn } = setup({ release: true }, 0);
    await spawn("a");
    hosts[0].crash();
    await sup.idle();
    expect(events.filter((e) => e.kind === EventKind.SupervisorError)).toMatchObject([
      { id: "w/a", fields: { error: "Error: registry unavailable" } },
    ]);
    expect(sup.children).toEqual([]);
  });

  it("is reported as supervisor_error when stopping a child for its restart throws", async () => {
    const { sup, events, hosts, spawn } = setup({ restart: true }, 5);
    await spawn("a");
    await spawn("b");
    hosts[0].crash();
    await sup.idle();
    expect(events.filter((e) => e.kind === EventKind.SupervisorError)).toMatchObject([
      { id: "w/a", fields: { supervisor: "root", error: "Error: could not commit" } },
    ]);
    // the next decision is still carried out
    hosts[1].state = "running";
    const before = events.length;
    hosts[1].crash();
    await sup.idle();
    expect(events.slice(before).map((e) => e.kind)).toContain(EventKind.ChildFailed);
    expect(events.slice(before).filter((e) => e.kind === EventKind.SupervisorError)).toHaveLength(1);
  });
});

describe("Supervisor: children given up on", () => {
  it(`keeps only the last ${GIVEN_UP_KEPT} of them, in list and tree, and none among its children`, async () => {
    const { sup, hosts, spawn } = setup({}, 0);
    const n = GIVEN_UP_KEPT + 4;
    for (let i = 0; i < n; i++) {
      await spawn(`k${i}`);
      hosts[i].crash();
      await sup.idle();
    }
    expect(sup.children).toEqual([]);
    const expected = Array.from({ length: GIVEN_UP_KEPT }, (_, i) => `w/k${i + 4}`);
    expect(sup.givenUpAgents().map((a) => a.id)).toEqual(expected);
    expect(sup.tree(() => undefined).map((t) => t.id)).toEqual(expected);
  });
});

describe("Supervisor: a static child that cannot be claimed", () => {
  it("is reported as child_failed, and its siblings start", async () => {
    const { sup, events } = setup({ claim: "b" }, 1);
    await sup.startChildren([
      normalizeChildSpec({ id: "a", type: "w", key: "a" }),
      normalizeChildSpec({ id: "b", type: "w", key: "b" }),
      normalizeChildSpec({ id: "c", type: "w", key: "c" }),
    ]);
    expect(sup.children.map((h) => h.id)).toEqual(["w/a", "w/c"]);
    expect(events.filter((e) => e.kind === EventKind.ChildFailed)).toMatchObject([
      { id: "w/b", fields: { supervisor: "root", childId: "b", reason: "start failed: agent w/b is already running on node b" } },
    ]);
  });
});
