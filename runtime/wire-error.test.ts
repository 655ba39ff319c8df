// Typed errors keep their class and their fields across the wire; a hostile
// reply can add nothing but short plain values.
import { describe, expect, it } from "vitest";
import { decodeEnvelope, encodeReply } from "./envelope.js";
import {
  AgentExistsError,
  AgentKilledError,
  AgentNotFoundError,
  AskTimeoutError,
  ErrorCode,
  InvalidConfigError,
  MailboxFullError,
  NoNodeForTypeError,
  RemoteError,
  RevisionConflictError,
  toWireError,
  TroupeError,
  UnknownAgentTypeError,
  ValueTooLargeError,
} from "./errors.js";
import { agentFailure, fromWireError } from "./wire-error.js";

const MAX = 1 << 20;

/** An error sent in a reply and read back by the asker of `agent`. */
function roundTrip(err: unknown, agent = "counter/c1"): Error {
  const env = decodeEnvelope(encodeReply("id", agent, null, toWireError(err), MAX), MAX);
  return fromWireError(agent, env.error!);
}

describe("errors across the wire", () => {
  it.each([
    new AskTimeoutError("counter/c1", 250),
    new UnknownAgentTypeError("planner", ["echo", "counter"]),
    new NoNodeForTypeError("planner", 3000),
    new AgentExistsError("counter/c1", "node-a"),
    new MailboxFullError("counter/c1", "65536 messages waiting, its capacity", "count"),
    new InvalidConfigError("intensity", "must be a non-negative integer, got -1"),
    new RevisionConflictError("user.42", 7),
    new ValueTooLargeError("blob", 2_000_000, 1_048_448),
    new AgentKilledError("counter/c1", "test kill"),
  ])("%s keeps its class, code, message and fields", (original: TroupeError) => {
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(original.constructor);
    expect(back).toBeInstanceOf(TroupeError);
    expect(back.name).toBe(original.name);
    expect(back.message).toBe(original.message);
    expect({ ...back }).toEqual({ ...original });
    expect(back.stack).toContain(original.name);
  });

  it("an error the agent's own code threw is a RemoteError, remembering a Troupe code", () => {
    const plain = agentFailureError(new TypeError("bad"));
    expect(plain).toBeInstanceOf(RemoteError);
    expect(plain).toMatchObject({ remoteName: "TypeError", remoteMessage: "bad", remoteCode: undefined });
    const nested = agentFailureError(new AgentNotFoundError("other/x"));
    expect(nested).toBeInstanceOf(RemoteError);
    expect(nested).toMatchObject({ remoteName: "AgentNotFoundError", remoteCode: ErrorCode.AgentNotFound });
  });

  it("takes only short plain fields from a hostile reply", () => {
    const wire = {
      name: "AskTimeoutError",
      code: ErrorCode.AskTimeout,
      message: "m",
      fields: { agentId: "a/b", timeoutMs: 5, __proto__: { polluted: true }, nested: { x: 1 }, code: "FAKE", "bad key": 1, long: "x".repeat(10_000) },
    };
    const env = decodeEnvelope(encodeReply("id", null, null, wire as never, MAX), MAX);
    const err = fromWireError("a/b", env.error!) as AskTimeoutError & Record<string, unknown>;
    expect(err).toBeInstanceOf(AskTimeoutError);
    expect(err.code).toBe(ErrorCode.AskTimeout);
    expect(err.timeoutMs).toBe(5);
    expect(err.nested).toBeUndefined();
    expect(err["bad key"]).toBeUndefined();
    expect((err.long as string).length).toBeLessThanOrEqual(512);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

function agentFailureError(err: unknown): Error {
  const env = decodeEnvelope(encodeReply("id", "counter/c1", null, agentFailure(err), MAX), MAX);
  return fromWireError("counter/c1", env.error!);
}
