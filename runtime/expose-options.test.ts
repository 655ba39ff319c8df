// defineAgent's `expose` and `service`: defaults, and a bad field named.

import { describe, expect, it } from "vitest";
import { defineAgent } from "./define-agent.js";
import { InvalidConfigError } from "./errors.js";

const receive = () => null;

describe("expose and service", () => {
  it("are off and on by default", () => {
    const t = defineAgent({ type: "plain", receive });
    expect(t.expose).toBeUndefined();
    expect(t.service).toBe(true);
  });

  it("takes true, or the protocol, a description, an input schema and an owner", () => {
    expect(defineAgent({ type: "a", receive, expose: true }).expose).toEqual({ inputSchema: undefined });
    const t = defineAgent({
      type: "b",
      receive,
      service: false,
      expose: { protocol: "nats-agents", description: "answers", inputSchema: { type: "object" }, owner: "acme" },
    });
    expect(t.expose).toEqual({ protocol: "nats-agents", description: "answers", inputSchema: { type: "object" }, owner: "acme" });
    expect(t.service).toBe(false);
  });

  it("takes the input schema from a schema that describes itself", () => {
    const schema = { parse: (m: unknown) => m, toJSONSchema: () => ({ type: "string" }) };
    expect(defineAgent({ type: "c", receive, schema, expose: {} }).expose?.inputSchema).toEqual({ type: "string" });
  });

  it.each([
    [{ protocol: "mcp" }, "expose.protocol"],
    [{ description: 7 }, "expose.description"],
    [{ inputSchema: [] }, "expose.inputSchema"],
    [{ owner: "a.b" }, "expose.owner"],
    [{ colour: "red" }, "expose.colour"],
    ["yes", "expose"],
  ])("refuses expose %j, naming %s", (expose, field) => {
    let err: unknown;
    try {
      defineAgent({ type: "bad", receive, expose: expose as never });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).field ?? (err as Error).message).toContain(field);
  });

  it("refuses the agent protocol for a type that takes only proven senders (prompts carry no proof)", () => {
    expect(() => defineAgent({ type: "v", receive, requireVerifiedSender: true, expose: { protocol: "nats-agents" } })).toThrow(/expose\.protocol/);
    expect(defineAgent({ type: "v", receive, requireVerifiedSender: true, expose: true }).expose).toBeDefined();
  });
});
