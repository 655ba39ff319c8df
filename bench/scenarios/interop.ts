// The `interop` scenario: what the ways in from outside Troupe cost, each
// against its baseline in the same run.
//
// 1. Micro-service registration: asks/s to an echo whose type is registered
//    as a NATS micro service against one with `service: false` (two node
//    processes, alternating rounds, 64 in flight). Goal: at least 0.95x.
//    Also: requests/s through the svc endpoint from a raw NATS client.
// 2. The NATS agent protocol: prompts/s through it (raw client, each stream
//    read to its terminator) against a Troupe ask to the same agent and a bare
//    nats.js responder sending the same three messages.
// 3. MCP tools for model agents: calls/s through mcpTools against the MCP
//    SDK's own client, over stdio and streamable HTTP.

import { measureAgentProtocol } from "../interop/agent-protocol.js";
import { measureMcpTools } from "../interop/mcp-tools.js";
import { measureServiceRegistration } from "../interop/service.js";
import { loadAverageNow } from "../environment.js";
import { compare, errorText, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";

/** The names of the figures this scenario reports (tests read them by these). */
export const InteropFigure = {
  Registration: "asks/s, type registered as a micro service vs service: false",
  SvcEndpoint: "svc endpoint from a raw NATS client vs a Troupe ask",
  Protocol: "agent protocol prompts/s vs a bare nats.js responder (ack, response, terminator)",
  ProtocolVsAsk: "agent protocol prompts/s vs a Troupe ask to the same agent",
  McpStdio: "mcpTools calls/s over stdio vs the MCP SDK client",
  McpHttp: "mcpTools calls/s over streamable HTTP vs the MCP SDK client",
} as const;

/** Asks with the registration on over off, at least. */
export const REGISTRATION_RATIO_GOAL = 0.95;

const FULL = { asks: 20_000, rounds: 5, prompts: 5_000, mcpCalls: 500, mcpRounds: 3 };
const QUICK = { asks: 4_000, rounds: 3, prompts: 1_000, mcpCalls: 100, mcpRounds: 2 };

export const interopScenario: Scenario = {
  name: "interop",
  title: "Interop: micro-service registration, the NATS agent protocol, MCP tools",
  description:
    "Asks/s to an echo registered as a NATS micro service against one with service: false (node processes of their own, alternating rounds, 64 in flight; goal at least 0.95x), the svc endpoint from a raw NATS client; prompts/s through the NATS agent protocol against a Troupe ask and a bare nats.js responder; MCP tool calls through mcpTools against the MCP SDK's client over stdio and HTTP.",
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const sizes = ctx.quick ? QUICK : FULL;
    const summary = "What registering every type as a NATS micro service costs the ask path (nothing measurable is the goal), and what the agent protocol and MCP tools cost against their own baselines.";
    const loadAtStart = loadAverageNow();
    try {
      ctx.progress(0, "micro-service registration on and off");
      const s1 = await ctx.startServer();
      const svc = await measureServiceRegistration({ servers: s1.url, asks: sizes.asks, rounds: sizes.rounds });
      ctx.log(`services: on ${Math.round(svc.asksPerSecServiceOn)} asks/s, off ${Math.round(svc.asksPerSecServiceOff)}, ratio ${svc.ratio.toFixed(2)}; svc endpoint ${Math.round(svc.svcRequestsPerSec)} req/s`);
      ctx.progress(0.4, "the NATS agent protocol");
      const s2 = await ctx.startServer();
      const ap = await measureAgentProtocol({ servers: s2.url, prompts: sizes.prompts, rounds: sizes.rounds });
      ctx.log(`agent protocol: ${Math.round(ap.protocolPerSec)} prompts/s, ask ${Math.round(ap.askPerSec)}/s, raw ${Math.round(ap.rawPerSec)}/s; ack ${ap.ackMs.toFixed(2)} ms, terminator ${ap.terminatorMs.toFixed(2)} ms`);
      ctx.progress(0.7, "MCP tools");
      const mcp = await measureMcpTools({ calls: sizes.mcpCalls, rounds: sizes.mcpRounds });
      ctx.progress(1, "done");
      const registration = compare({ name: InteropFigure.Registration, unit: "asks/s", better: "higher", troupe: svc.asksPerSecServiceOn, baseline: svc.asksPerSecServiceOff, minRatio: REGISTRATION_RATIO_GOAL });
      // The goal is on the median of the rounds' ratios (each round's on and off run back to back).
      registration.ratio = svc.ratio;
      registration.pass = svc.ratio >= REGISTRATION_RATIO_GOAL;
      return {
        name: "interop",
        ok: true,
        summary,
        metrics: [
          registration,
          compare({ name: InteropFigure.SvcEndpoint, unit: "req/s", better: "higher", troupe: svc.svcRequestsPerSec, baseline: svc.asksPerSecServiceOn }),
          compare({ name: InteropFigure.Protocol, unit: "prompts/s", better: "higher", troupe: ap.protocolPerSec, baseline: ap.rawPerSec }),
          compare({ name: InteropFigure.ProtocolVsAsk, unit: "prompts/s", better: "higher", troupe: ap.protocolPerSec, baseline: ap.askPerSec }),
          compare({ name: InteropFigure.McpStdio, unit: "calls/s", better: "higher", troupe: mcp.stdio.troupe.callsPerSec, baseline: mcp.stdio.sdk.callsPerSec }),
          compare({ name: InteropFigure.McpHttp, unit: "calls/s", better: "higher", troupe: mcp.http.troupe.callsPerSec, baseline: mcp.http.sdk.callsPerSec }),
        ],
        notes: [
          `Registration: ${svc.rounds} rounds of ${svc.asks} asks each way, 64 in flight, from this process to an echo in a node process of its own (one registered, one with service: false); the figure is the median of the rounds' on/off ratios. Rounds, on: ${svc.onPerRound.map((x) => Math.round(x)).join(", ")}; off: ${svc.offPerRound.map((x) => Math.round(x)).join(", ")}. The svc endpoint goes through NATS twice (caller to the node's handler, handler to the agent), so it is slower than an ask; the registration itself adds nothing to the ask path.`,
          `Agent protocol: ${ap.prompts} prompts a round, ${ap.concurrency} in flight, ${ap.rounds} rounds; one at a time the ack came after ${ap.ackMs.toFixed(2)} ms and the terminator after ${ap.terminatorMs.toFixed(2)} ms (medians).`,
          `MCP: ${mcp.calls} calls a round, ${mcp.rounds} rounds, the SDK client asking for protocol revision ${mcp.protocolVersion}; a local function tool through the same toolbox: ${Math.round(mcp.local.callsPerSec)} calls/s.`,
          `Load average at start ${loadAtStart}, at end ${loadAverageNow()} (the machine is shared).`,
        ],
      };
    } catch (err) {
      return { name: "interop", ok: false, summary, metrics: [], error: errorText(err) };
    }
  },
};
