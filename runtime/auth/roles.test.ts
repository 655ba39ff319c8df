// Each role's subject permissions, as tables of subjects that must be allowed
// and refused, checked with NATS's own matching rules (whole-token `*`, a
// trailing `>`; a subscription with wildcards is allowed only when an allowed
// pattern covers all it could match). The server enforces these lists; the
// integration tests (attacks, namespaces, node-roles) show it does.

import { describe, expect, it } from "vitest";
import { permissionsFor, Role, type RoleScope, type SubjectPermissions, type TypeReach } from "./roles.js";

const NS = "shop";
const USER = "UUSERKEY";
const OTHER_USER = "UOTHERKEY";

/** Whether NATS pattern `pattern` covers `subject` (which may hold wildcards itself, as a subscription's does). */
function covers(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || s[i] === ">") return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

function allowed(list: readonly string[], subject: string): boolean {
  return list.some((p) => covers(p, subject));
}

interface Table {
  pubAllowed?: string[];
  pubRefused?: string[];
  subAllowed?: string[];
  subRefused?: string[];
}

/** One `it` per subject of the table, named after it. */
function checkTable(perms: () => SubjectPermissions, t: Table): void {
  for (const s of t.pubAllowed ?? []) it(`may publish to ${s}`, () => expect(allowed(perms().pub.allow, s)).toBe(true));
  for (const s of t.pubRefused ?? []) it(`may not publish to ${s}`, () => expect(allowed(perms().pub.allow, s)).toBe(false));
  for (const s of t.subAllowed ?? []) it(`may subscribe to ${s}`, () => expect(allowed(perms().sub.allow, s)).toBe(true));
  for (const s of t.subRefused ?? []) it(`may not subscribe to ${s}`, () => expect(allowed(perms().sub.allow, s)).toBe(false));
}

const perms = (role: Role, scope: Partial<RoleScope> = {}) => () => permissionsFor(role, { namespace: NS, ...scope }, USER);

// What no role but admin may do, whatever its scope.
const adminOnly = [
  "$JS.API.STREAM.DELETE.KV_troupe_shop_state",
  "$JS.API.STREAM.DELETE.KV_troupe_shop_registry",
  "$JS.API.STREAM.DELETE.TROUPE_SHOP_DLQ",
  "$JS.API.STREAM.DELETE.TROUPE_SHOP_MBOX",
  "$JS.API.STREAM.PURGE.TROUPE_SHOP_DLQ",
  "$JS.API.STREAM.PURGE.KV_troupe_shop_state",
  "$JS.API.STREAM.PURGE.KV_troupe_shop_mem",
  "$JS.API.STREAM.MSG.DELETE.TROUPE_SHOP_DLQ",
  "$JS.API.STREAM.MSG.DELETE.KV_troupe_shop_state",
  // Shrinking a stream's limits purges it in effect.
  "$JS.API.STREAM.UPDATE.KV_troupe_shop_state",
  "$JS.API.STREAM.UPDATE.KV_troupe_shop_registry",
  "$JS.API.STREAM.UPDATE.KV_troupe_shop_mem",
  "$JS.API.STREAM.UPDATE.TROUPE_SHOP_DLQ",
  "$JS.API.ACCOUNT.PURGE.x",
  "$SYS.REQ.SERVER.PING",
  "unrelated.subject",
];

describe("the matcher", () => {
  it.each([
    ["a.*.c", "a.b.c", true],
    ["a.*.c", "a.b.d", false],
    ["a.>", "a.b.c", true],
    ["a.>", "a", false],
    ["a.*", "a.*", true],
    ["a.b", "a.*", false],
    ["a.*", "a.>", false],
    [">", "a.>", true],
    ["a.b", "a.b.c", false],
  ])("%s covers %s: %s", (pattern, subject, expected) => expect(covers(pattern, subject)).toBe(expected));
});

describe("admin", () => {
  checkTable(perms(Role.Admin), { pubAllowed: [...adminOnly, "troupe.other.agent.x.y"], subAllowed: [">", "_INBOX.>"] });
});

describe("client", () => {
  checkTable(perms(Role.Client), {
    pubAllowed: [
      "troupe.shop.agent.counter.c1",
      "troupe.shop.mbox.journal.j1",
      "troupe.shop.pool.lazy.activate",
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.KV_troupe_shop_registry",
      "$JS.API.DIRECT.GET.KV_troupe_shop_types.$KV.troupe_shop_types.journal",
      "$JS.API.STREAM.INFO.KV_troupe_shop_nodes",
    ],
    pubRefused: [
      ...adminOnly,
      "troupe.shop.node.n1.ctl.counter",
      "troupe.shop.node.n1.info",
      "troupe.shop.pool.counter.spawn",
      "troupe.shop.events.lifecycle.counter.c1",
      "troupe.shop.dlq.counter.c1",
      "troupe.other.agent.counter.c1",
      "$KV.troupe_shop_state.counter.c1",
      "$KV.troupe_shop_registry.counter.c1",
      "$KV.troupe_shop_types.counter",
      "$KV.troupe_shop_nodes.n1",
      "$KV.troupe_shop_mem.facts.a",
      "$JS.API.STREAM.INFO.KV_troupe_shop_state",
      "$JS.API.DIRECT.GET.KV_troupe_shop_state.$KV.troupe_shop_state.counter.c1",
      "$JS.API.STREAM.MSG.GET.KV_troupe_shop_state",
      "$JS.API.STREAM.INFO.KV_troupe_shop_mem",
      "$JS.API.DIRECT.GET.KV_troupe_shop_mem.$KV.troupe_shop_mem.facts.a",
      "$JS.API.STREAM.MSG.GET.TROUPE_SHOP_DLQ",
      "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_DLQ.x",
      "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_MBOX.x",
      "$JS.API.STREAM.CREATE.KV_troupe_shop_state",
      "$JS.API.STREAM.UPDATE.TROUPE_SHOP_DLQ",
      "$JS.API.STREAM.LIST",
      "$JS.ACK.TROUPE_SHOP_MBOX.x.1.1.1.1.1",
      "_INBOX.UOTHERKEY.abc",
    ],
    subAllowed: [`_INBOX.${USER}.abc`, `_INBOX.${USER}.>`],
    subRefused: [
      ">",
      "_INBOX.>",
      `_INBOX.${OTHER_USER}.abc`,
      "troupe.shop.>",
      "troupe.shop.agent.counter.c1",
      "troupe.shop.agent.*.*",
      "troupe.shop.events.>",
      "troupe.shop.node.n1.ctl.*",
      "troupe.shop.pool.counter.*",
      "$KV.troupe_shop_state.>",
    ],
  });
});

describe("client reading shared memory (memoryRead)", () => {
  checkTable(perms(Role.Client, { memoryRead: ["facts.>", "notes:todo.*"] }), {
    pubAllowed: [
      "$JS.API.STREAM.INFO.KV_troupe_shop_mem",
      "$JS.API.DIRECT.GET.KV_troupe_shop_mem.$KV.troupe_shop_mem.facts.a",
      "$JS.API.CONSUMER.CREATE.KV_troupe_shop_mem.x",
      "$JS.API.STREAM.INFO.KV_troupe_shop_mem_notes",
    ],
    pubRefused: ["$KV.troupe_shop_mem.facts.a", "$KV.troupe_shop_mem_notes.todo.a", "$JS.API.STREAM.PURGE.KV_troupe_shop_mem", "$JS.API.STREAM.INFO.KV_troupe_shop_mem_other"],
  });
});

describe("client narrowed to types", () => {
  checkTable(perms(Role.Client, { types: ["counter"] }), {
    pubAllowed: ["troupe.shop.agent.counter.c1", "troupe.shop.mbox.counter.c1", "troupe.shop.pool.counter.activate"],
    pubRefused: ["troupe.shop.agent.echo.e1", "troupe.shop.mbox.echo.e1", "troupe.shop.pool.echo.activate", "troupe.shop.pool.counter.w.load"],
    // Load reports of its types' pools (least-loaded routing), and no other pool's.
    subAllowed: [`_INBOX.${USER}.x`, "troupe.shop.pool.counter.w.load", "troupe.shop.pool.counter.*.load"],
    subRefused: ["troupe.shop.pool.echo.w.load", "troupe.shop.pool.*.*.load", "troupe.shop.pool.counter.activate"],
  });
});

describe("client narrowed to one agent", () => {
  checkTable(perms(Role.Client, { agent: { type: "counter", key: "c1" } }), {
    pubAllowed: ["troupe.shop.agent.counter.c1", "troupe.shop.mbox.counter.c1", "troupe.shop.pool.counter.activate", "agents.prompt.counter.shop.c1", "agents.status.counter.shop.c1"],
    pubRefused: [
      "troupe.shop.agent.counter.c2",
      "troupe.shop.mbox.counter.c2",
      "troupe.shop.agent.echo.c1",
      "troupe.shop.pool.echo.activate",
      // The agent protocol reaches its one key only.
      "agents.prompt.counter.shop.c2",
      "agents.status.counter.shop.c2",
      "agents.prompt.echo.shop.c1",
    ],
  });
});

describe("node", () => {
  checkTable(perms(Role.Node), {
    pubAllowed: [
      "_INBOX.UANYONE.abc",
      "troupe.shop.agent.echo.e1",
      "troupe.shop.mbox.journal.j1",
      "troupe.shop.pool.counter.spawn",
      "troupe.shop.pool.counter.activate",
      "troupe.shop.node.n2.ctl.counter",
      "troupe.shop.node.n2.ctl.echo",
      "troupe.shop.node.n2.info",
      "troupe.shop.events.lifecycle.counter.c1",
      "troupe.shop.dlq.counter.c1",
      "$KV.troupe_shop_state.counter.c1",
      "$KV.troupe_shop_registry.counter.c1",
      "$KV.troupe_shop_types.counter",
      "$KV.troupe_shop_nodes.n1",
      "$KV.troupe_shop_mem.facts.a",
      "$JS.API.STREAM.CREATE.KV_troupe_shop_state",
      "$JS.API.STREAM.INFO.TROUPE_SHOP_DLQ",
      "$JS.API.STREAM.PURGE.TROUPE_SHOP_MBOX",
      "$JS.API.STREAM.UPDATE.TROUPE_SHOP_MBOX",
      "$JS.API.CONSUMER.MSG.NEXT.TROUPE_SHOP_MBOX.journal",
      "$JS.ACK.TROUPE_SHOP_MBOX.journal.1.1.1.1.1",
    ],
    pubRefused: [
      ...adminOnly,
      "troupe.other.agent.echo.e1",
      "$KV.troupe_other_state.counter.c1",
      // A stream of its own choosing could capture agent subjects and answer asks in the agents' place.
      "$JS.API.STREAM.CREATE.CAPTURE",
      "$JS.API.STREAM.CREATE.KV_troupe_shop_mem_notes",
    ],
    subAllowed: [`_INBOX.${USER}.x`, "troupe.shop.agent.counter.c1", "troupe.shop.agent.counter.*", "troupe.shop.pool.counter.*", "troupe.shop.node.n1.ctl.*", "troupe.shop.node.n1.info", "troupe.shop.events.>"],
    subRefused: [">", "_INBOX.>", `_INBOX.${OTHER_USER}.x`, "troupe.shop.>", "troupe.other.agent.counter.c1", "$KV.troupe_shop_state.>"],
  });
});

describe("node narrowed to types", () => {
  checkTable(perms(Role.Node, { types: ["counter"] }), {
    pubAllowed: [
      "$KV.troupe_shop_state.counter.c1",
      "$KV.troupe_shop_registry.counter.c1",
      "$KV.troupe_shop_types.counter",
      "troupe.shop.dlq.counter.c1",
      "troupe.shop.node.n2.ctl.counter",
      "troupe.shop.pool.counter.spawn",
      // An agent's message activates an agent of any type.
      "troupe.shop.pool.echo.activate",
      // Load reports of its types' pool members.
      "troupe.shop.pool.counter.w.load",
    ],
    pubRefused: [
      "$KV.troupe_shop_state.echo.e1",
      "$KV.troupe_shop_registry.echo.e1",
      "$KV.troupe_shop_types.echo",
      "troupe.shop.dlq.echo.e1",
      // Control and spawn placement of another type's agents.
      "troupe.shop.node.n2.ctl.echo",
      "troupe.shop.node.n2.ctl.*",
      "troupe.shop.pool.echo.spawn",
      "troupe.shop.pool.echo.w.load",
      ...adminOnly,
    ],
    // Its agents may use pools of any type (ctx.pool): they hear every pool's load reports.
    subAllowed: ["troupe.shop.agent.counter.c1", "troupe.shop.agent.counter.*", "troupe.shop.pool.counter.*", "troupe.shop.node.n1.ctl.*", "troupe.shop.pool.echo.w.load"],
    subRefused: ["troupe.shop.agent.echo.e1", "troupe.shop.agent.*.*", "troupe.shop.pool.echo.*", "troupe.shop.pool.*.*"],
  });
});

describe("node pinned to a name", () => {
  checkTable(perms(Role.Node, { node: "n1" }), {
    pubAllowed: ["$KV.troupe_shop_nodes.n1", "troupe.shop.node.n2.ctl.counter"],
    pubRefused: ["$KV.troupe_shop_nodes.n2"],
    subAllowed: ["troupe.shop.node.n1.ctl.*", "troupe.shop.node.n1.ctl.counter", "troupe.shop.node.n1.info"],
    subRefused: ["troupe.shop.node.n2.ctl.*", "troupe.shop.node.n2.ctl.counter", "troupe.shop.node.n2.info", "troupe.shop.node.*.ctl.*"],
  });
});

describe("node of a type that declares `can`", () => {
  const reach: TypeReach = { message: [{ type: "summarizer" }, { type: "search", key: "s1" }], memoryRead: [{ pattern: "facts.>" }], memoryWrite: [{ pattern: "notes.>" }] };
  checkTable(perms(Role.Node, { types: ["writer"], reach: new Map([["writer", reach]]) }), {
    pubAllowed: [
      "troupe.shop.agent.summarizer.x",
      "troupe.shop.mbox.summarizer.x",
      "troupe.shop.agent.search.s1",
      "$KV.troupe_shop_mem.notes.a",
      "$JS.API.DIRECT.GET.KV_troupe_shop_mem.$KV.troupe_shop_mem.facts.a",
      "$KV.troupe_shop_state.writer.w1",
    ],
    pubRefused: [
      "troupe.shop.agent.echo.e1",
      "troupe.shop.agent.search.s2",
      "troupe.shop.mbox.echo.e1",
      // Else it could widen the mailbox stream's subjects to every agent's and read them through its consumers.
      "$JS.API.STREAM.UPDATE.TROUPE_SHOP_MBOX",
      "$KV.troupe_shop_mem.facts.a", "$KV.troupe_shop_mem_other.notes.a", "$JS.API.DIRECT.GET.KV_troupe_shop_mem_other.x", ...adminOnly],
  });
  it("is not narrowed when a type's reach is unknown (declared without `can`)", () => {
    const p = permissionsFor(Role.Node, { namespace: NS, types: ["writer", "plain"], reach: new Map([["writer", reach]]) }, USER);
    expect(allowed(p.pub.allow, "troupe.shop.agent.echo.e1")).toBe(true);
  });
});

describe("observer", () => {
  checkTable(perms(Role.Observer), {
    pubAllowed: ["troupe.shop.node.n1.info", "$JS.API.STREAM.INFO.KV_troupe_shop_registry", "$JS.API.DIRECT.GET.KV_troupe_shop_nodes.$KV.troupe_shop_nodes.n1"],
    pubRefused: [
      ...adminOnly,
      "troupe.shop.node.n1.ctl.counter",
      "troupe.shop.agent.counter.c1",
      "troupe.shop.mbox.counter.c1",
      "troupe.shop.pool.lazy.activate",
      "troupe.shop.events.lifecycle.counter.c1",
      "$KV.troupe_shop_registry.counter.c1",
      "$KV.troupe_shop_nodes.n1",
      "$JS.API.STREAM.INFO.KV_troupe_shop_state",
      "$JS.API.STREAM.INFO.KV_troupe_shop_mem",
      "_INBOX.UANYONE.abc",
    ],
    subAllowed: ["troupe.shop.events.>", "troupe.shop.events.lifecycle.counter.c1", `_INBOX.${USER}.x`],
    subRefused: [">", "_INBOX.>", "troupe.shop.agent.counter.c1", "troupe.shop.node.n1.ctl.*", "troupe.shop.>"],
  });
});

describe("the events stream's history", () => {
  describe("observer", () => {
    checkTable(perms(Role.Observer), {
      // Whether the namespace keeps events (`agentctl events` says so when it does not).
      pubAllowed: ["$JS.API.STREAM.INFO.TROUPE_SHOP_EVENTS"],
      // No consumer of the events stream: subject permissions cannot limit a consumer's config, so
      // an observer could make a durable one that stays forever, or one whose deliver subject is an
      // agent's inbox (stored events pushed at the agent, each rejection a new stored event: a loop).
      // The kept history is read with an admin credential; live events need none of this.
      // It makes, changes or empties no stream, and reads no stream's messages through a consumer.
      pubRefused: [
        "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_EVENTS",
        "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_EVENTS.abc_1",
        "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_EVENTS.abc_1.troupe.shop.events.*.*.*",
        "$JS.API.CONSUMER.DELETE.TROUPE_SHOP_EVENTS.abc_1",
        "$JS.API.CONSUMER.MSG.NEXT.TROUPE_SHOP_EVENTS.abc_1",
        "$JS.API.STREAM.CREATE.TROUPE_SHOP_EVENTS",
        "$JS.API.STREAM.UPDATE.TROUPE_SHOP_EVENTS",
        "$JS.API.STREAM.DELETE.TROUPE_SHOP_EVENTS",
        "$JS.API.STREAM.PURGE.TROUPE_SHOP_EVENTS",
        "$JS.API.STREAM.MSG.DELETE.TROUPE_SHOP_EVENTS",
        "$JS.API.CONSUMER.DURABLE.CREATE.TROUPE_SHOP_EVENTS.x",
        "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_DLQ.abc_1",
        "$JS.API.CONSUMER.MSG.NEXT.TROUPE_SHOP_MBOX.abc_1",
        "troupe.shop.events.lifecycle.counter.c1",
      ],
    });
  });
  describe("node", () => {
    checkTable(perms(Role.Node, { types: ["counter"] }), {
      pubAllowed: ["$JS.API.STREAM.CREATE.TROUPE_SHOP_EVENTS", "$JS.API.STREAM.INFO.TROUPE_SHOP_EVENTS", "troupe.shop.events.lifecycle.counter.c1"],
      pubRefused: ["$JS.API.STREAM.UPDATE.TROUPE_SHOP_EVENTS", "$JS.API.STREAM.DELETE.TROUPE_SHOP_EVENTS", "$JS.API.STREAM.PURGE.TROUPE_SHOP_EVENTS"],
    });
  });
  describe("client", () => {
    checkTable(perms(Role.Client), {
      pubRefused: ["$JS.API.STREAM.CREATE.TROUPE_SHOP_EVENTS", "$JS.API.CONSUMER.CREATE.TROUPE_SHOP_EVENTS.abc_1"],
    });
  });
});

describe("NATS micro services ($SRV and the svc endpoints)", () => {
  describe("node", () => {
    checkTable(perms(Role.Node), {
      subAllowed: ["troupe.shop.svc.counter.*", "troupe.shop.svc-tell.counter.*", "$SRV.PING", "$SRV.INFO.troupe-shop-counter", "$SRV.STATS.troupe-shop-counter.ID1"],
      subRefused: ["troupe.shop.>", "troupe.other.svc.counter.*"],
    });
  });
  describe("node narrowed to types", () => {
    checkTable(perms(Role.Node, { types: ["counter"] }), {
      subAllowed: ["troupe.shop.svc.counter.*", "troupe.shop.svc-tell.counter.*", "$SRV.PING", "$SRV.INFO", "$SRV.STATS", "$SRV.*.troupe-shop-counter", "$SRV.*.troupe-shop-counter.*"],
      // Another type's requests and discovery: it would answer in that type's place. (`$SRV.*.agents`
      // is the agent protocol's discovery, which every node hosting an exposed type answers for its own.)
      subRefused: ["troupe.shop.svc.echo.*", "troupe.shop.svc.*.*", "$SRV.*.troupe-shop-echo", "$SRV.*.troupe-shop-echo.*", "$SRV.>"],
    });
  });
  describe("client", () => {
    checkTable(perms(Role.Client), {
      pubAllowed: ["troupe.shop.svc.counter.c1", "troupe.shop.svc-tell.counter.c1", "$SRV.PING", "$SRV.INFO.troupe-shop-counter"],
      pubRefused: ["troupe.other.svc.counter.c1"],
      subRefused: ["troupe.shop.svc.counter.*", "$SRV.>", "$SRV.PING"],
    });
  });
  describe("client narrowed to one agent", () => {
    checkTable(perms(Role.Client, { agent: { type: "counter", key: "c1" } }), {
      pubAllowed: ["troupe.shop.svc.counter.c1", "troupe.shop.svc-tell.counter.c1", "$SRV.STATS"],
      pubRefused: ["troupe.shop.svc.counter.c2", "troupe.shop.svc.echo.c1", "troupe.shop.svc-tell.echo.c1"],
    });
  });
  describe("observer", () => {
    checkTable(perms(Role.Observer), {
      pubAllowed: ["$SRV.PING", "$SRV.INFO.troupe-shop-counter", "$SRV.STATS"],
      pubRefused: ["troupe.shop.svc.counter.c1", "troupe.shop.svc-tell.counter.c1"],
    });
  });
});
