// The agent side of the NATS agent protocol, version 0.3 (synadia-ai/
// nats-agent-sdk-docs, core-protocol.md), for the types a node hosts with
// `expose: { protocol: "nats-agents" }`. Each registration is one micro service
// named `agents` (its own instance id) with endpoints `prompt` and `status`
// (queue group `agents`) and a heartbeat on `agents.hb.<type>.<owner>.<name>`.
//
// What is registered:
// - a spawned type: one registration per running agent, name = its key, made
//   when the agent starts on this node and removed when it stops here (also
//   when it fails over or is handed over: the new node registers it);
// - an on-demand type: one registration per node that hosts it, name
//   `default` (advertised, and the agent `<type>/default`), whose endpoints
//   also serve every other key: `agents.prompt.<type>.<owner>.<key>` prompts
//   `<type>/<key>`, activating it. The nodes of the type share the queue group.
//
// The micro-service discovery subjects ($SRV.PING|INFO|STATS[.agents[.<id>]])
// are answered here, one reply per registration, as ADR-32 shapes them.

import { nuid, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { AgentRef } from "../agent-ref.js";
import type { Clock, TimerHandle } from "../clock.js";
import { ActivationMode, type AgentType } from "../define-agent.js";
import { ExposeProtocol } from "../expose-options.js";
import { AGENT_PROTOCOL_SERVICE, agentProtocolDiscovery, agentProtocolSubjects, isReplySubject, Subjects, validateToken } from "../subjects.js";
import { parseAgentRequest } from "./agent-request.js";
import { sendError, servePrompt } from "./agent-prompt.js";
import { formatMaxPayload, ProtocolStatus } from "./protocol-chunks.js";

/** The protocol version implemented (MAJOR.MINOR, as `metadata.protocol_version` carries it). */
export const AGENT_PROTOCOL_VERSION = "0.3";

/** Heartbeat cadence, seconds (§8.2's recommended default). */
export const HEARTBEAT_INTERVAL_S = 30;

/** The name an on-demand type registers under (and the key a prompt to it reaches). */
export const ON_DEMAND_NAME = "default";

const QUEUE = "agents";
const encoder = new TextEncoder();

/** What the protocol needs from its node. */
export interface AgentProtocolEnv {
  readonly nc: NatsConnection;
  readonly clock: Clock;
  readonly namespace: string;
  /** The implementation's version (`service.version`). */
  readonly version: string;
  /** Largest request accepted (the node's message limit). */
  readonly maxPayload: number;
  /** Inactivity allowed on an agent's answer. */
  readonly inactivityMs: number;
  ref(type: string, key: string): AgentRef;
  /** Something went wrong that nobody asked about (a subscription closed with an error). */
  trouble(where: string, err: unknown): void;
}

/** Counts of one endpoint, as $SRV.STATS reports them. */
interface EndpointStats {
  requests: number;
  errors: number;
  processingNs: number;
  lastError: string;
}

/** One micro-service registration: an agent (or every agent of an on-demand type). */
interface Registration {
  readonly id: string;
  readonly def: AgentType;
  readonly owner: string;
  readonly name: string;
  readonly started: string;
  readonly subjects: { prompt: string; status: string; heartbeat: string };
  readonly prompt: EndpointStats;
  readonly status: EndpointStats;
  readonly subs: Subscription[];
}

/** Whether a type speaks the agent protocol. */
export function speaksAgentProtocol(def: { expose?: { protocol?: string } }): boolean {
  return def.expose?.protocol === ExposeProtocol.NatsAgents;
}

/** The agent protocol on one node. */
export class AgentProtocol {
  private readonly types = new Map<string, AgentType>();
  /** Registrations by `<type>/<name>`; removed when their agent stops here or the node closes. */
  private readonly registrations = new Map<string, Registration>();
  private discovery: Subscription[] = [];
  private beat: TimerHandle | undefined;
  private closed = false;
  private readonly subjects: Subjects;
  /** Prompts refused with no reply subject to answer on. */
  dropped = 0;

  constructor(
    defs: ReadonlyArray<{ kind: string; type: string }>,
    private readonly env: AgentProtocolEnv,
  ) {
    this.subjects = new Subjects(env.namespace);
    for (const def of defs) if (def.kind === "agent" && speaksAgentProtocol(def as AgentType)) this.types.set(def.type, def as AgentType);
  }

  /** Whether any hosted type speaks the protocol (else nothing here subscribes). */
  get active(): boolean {
    return this.types.size > 0;
  }

  /** Answer discovery, register the on-demand types, start beating. */
  start(): void {
    if (!this.active || this.closed) return;
    const d = agentProtocolDiscovery();
    this.discovery = [d.all, d.service, d.instance].map((subject) =>
      this.env.nc.subscribe(subject, { callback: (err, msg) => (err ? this.env.trouble("agent protocol discovery", err) : this.discover(msg)) }),
    );
    for (const def of this.types.values()) if (def.activation === ActivationMode.OnDemand) this.register(def, ON_DEMAND_NAME, true);
    this.scheduleBeat();
  }

  /** An agent started on this node: a spawned exposed type registers it. */
  agentStarted(type: string, key: string): void {
    const def = this.types.get(type);
    if (!def || def.activation === ActivationMode.OnDemand || this.closed) return;
    if (!this.registrations.has(`${type}/${key}`)) this.register(def, key, false);
  }

  /** An agent stopped here (or failed for good, or was handed over): its registration goes. */
  agentReleased(type: string, key: string): void {
    const def = this.types.get(type);
    if (!def || def.activation === ActivationMode.OnDemand) return;
    this.unregister(`${type}/${key}`);
  }

  /** The instance ids registered here, by `<type>/<name>` (for tests and `agentctl`). */
  instances(): Record<string, string> {
    return Object.fromEntries([...this.registrations].map(([k, r]) => [k, r.id]));
  }

  close(): void {
    this.closed = true;
    if (this.beat !== undefined) this.env.clock.clearTimeout(this.beat);
    for (const s of this.discovery) s.unsubscribe();
    this.discovery = [];
    for (const k of [...this.registrations.keys()]) this.unregister(k);
  }

  // ---- registrations ----------------------------------------------------------

  private register(def: AgentType, name: string, anyKey: boolean): void {
    const owner = def.expose?.owner ?? this.env.namespace;
    const subjects = agentProtocolSubjects(def.type, owner, name);
    const served = anyKey ? agentProtocolSubjects(def.type, owner, "*") : subjects;
    const r: Registration = {
      id: nuid.next(),
      def,
      owner,
      name,
      started: new Date(this.env.clock.now()).toISOString(),
      subjects,
      prompt: emptyStats(),
      status: emptyStats(),
      subs: [],
    };
    const { nc } = this.env;
    r.subs.push(
      nc.subscribe(served.prompt, { queue: QUEUE, callback: (err, msg) => (err ? this.env.trouble("agent protocol prompt", err) : void this.prompt(r, msg)) }),
      nc.subscribe(served.status, { queue: QUEUE, callback: (err, msg) => (err ? this.env.trouble("agent protocol status", err) : this.status(r, msg)) }),
    );
    this.registrations.set(`${def.type}/${name}`, r);
    // §8.2: the first beat once registered, so a caller that watches beats finds it in $SRV.INFO.
    this.publishBeat(r);
  }

  private unregister(k: string): void {
    const r = this.registrations.get(k);
    if (!r) return;
    this.registrations.delete(k);
    for (const s of r.subs) s.unsubscribe();
  }

  // ---- endpoints -------------------------------------------------------------

  private async prompt(r: Registration, msg: Msg): Promise<void> {
    const started = process.hrtime.bigint();
    const reply = msg.reply;
    if (reply === undefined || !isReplySubject(reply)) {
      this.dropped++;
      return;
    }
    r.prompt.requests++;
    const fail = (code: number, error: string, message: string): void => {
      r.prompt.errors++;
      r.prompt.lastError = `${code}:${message}`;
      sendError(this.env.nc, reply, code, message, { error, message });
    };
    try {
      const key = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
      try {
        validateToken("agent key", key);
      } catch {
        fail(ProtocolStatus.BadRequest, "invalid_name", `the last token of ${r.subjects.prompt.slice(0, r.subjects.prompt.lastIndexOf("."))}.<name> is the agent's key: 1-128 letters, digits, "_" or "-"`);
        return;
      }
      const request = parseAgentRequest(msg.data, this.env.maxPayload);
      if (!request.ok) {
        fail(ProtocolStatus.BadRequest, request.error, request.message);
        return;
      }
      const outcome = await servePrompt(
        { nc: this.env.nc, clock: this.env.clock, inactivityMs: this.env.inactivityMs, querySubject: () => this.subjects.agentQuery(r.def.type, nuid.next()) },
        reply,
        this.env.ref(r.def.type, key),
        request,
        r.def.model !== undefined,
      );
      if (!outcome.ok) {
        r.prompt.errors++;
        r.prompt.lastError = `${outcome.code}:${outcome.description}`;
      }
    } catch (err) {
      fail(ProtocolStatus.Internal, "internal", err instanceof Error ? err.message : String(err));
    } finally {
      r.prompt.processingNs += Number(process.hrtime.bigint() - started);
    }
  }

  private status(r: Registration, msg: Msg): void {
    if (msg.reply === undefined || !isReplySubject(msg.reply)) {
      this.dropped++;
      return;
    }
    const started = process.hrtime.bigint();
    r.status.requests++;
    try {
      this.env.nc.publish(msg.reply, encoder.encode(JSON.stringify(this.beatPayload(r))));
    } catch (err) {
      r.status.errors++;
      r.status.lastError = String(err);
      sendError(this.env.nc, msg.reply, ProtocolStatus.Internal, `status: ${String(err)}`);
    } finally {
      r.status.processingNs += Number(process.hrtime.bigint() - started);
    }
  }

  // ---- heartbeat ----------------------------------------------------------------

  private beatPayload(r: Registration): Record<string, unknown> {
    return {
      agent: r.def.type,
      owner: r.owner,
      session: r.name,
      instance_id: r.id,
      ts: new Date(this.env.clock.now()).toISOString(),
      interval_s: HEARTBEAT_INTERVAL_S,
    };
  }

  private publishBeat(r: Registration): void {
    try {
      this.env.nc.publish(r.subjects.heartbeat, encoder.encode(JSON.stringify(this.beatPayload(r))));
    } catch (err) {
      this.env.trouble("agent protocol heartbeat", err);
    }
  }

  private scheduleBeat(): void {
    this.beat = this.env.clock.setTimeout(() => {
      if (this.closed) return;
      for (const r of this.registrations.values()) this.publishBeat(r);
      this.scheduleBeat();
    }, HEARTBEAT_INTERVAL_S * 1000);
  }

  // ---- $SRV discovery ------------------------------------------------------------

  private discover(msg: Msg): void {
    try {
      if (msg.reply === undefined || !isReplySubject(msg.reply)) return;
      const [, verb, name, id, extra] = msg.subject.split(".");
      if (extra !== undefined || (name !== undefined && name !== AGENT_PROTOCOL_SERVICE)) return;
      for (const r of this.registrations.values()) {
        if (id !== undefined && id !== r.id) continue;
        const body = verb === "PING" ? this.ping(r) : verb === "INFO" ? this.info(r) : verb === "STATS" ? this.stats(r) : undefined;
        if (body === undefined) return;
        this.env.nc.publish(msg.reply, encoder.encode(JSON.stringify(body)));
      }
    } catch (err) {
      this.env.trouble("agent protocol discovery", err);
    }
  }

  private ping(r: Registration): Record<string, unknown> {
    return { type: "io.nats.micro.v1.ping_response", name: AGENT_PROTOCOL_SERVICE, id: r.id, version: this.env.version, metadata: this.metadata(r) };
  }

  private metadata(r: Registration): Record<string, string> {
    return { agent: r.def.type, owner: r.owner, session: r.name, protocol_version: AGENT_PROTOCOL_VERSION, "troupe.namespace": this.env.namespace, ...(r.def.activation === ActivationMode.OnDemand ? { "troupe.any_key": "true" } : {}) };
  }

  private info(r: Registration): Record<string, unknown> {
    return {
      type: "io.nats.micro.v1.info_response",
      name: AGENT_PROTOCOL_SERVICE,
      id: r.id,
      version: this.env.version,
      description: r.def.expose?.description ?? `Troupe agent ${r.def.type}/${r.name}`,
      metadata: this.metadata(r),
      endpoints: [
        { name: "prompt", subject: r.subjects.prompt, queue_group: QUEUE, metadata: { max_payload: formatMaxPayload(this.env.maxPayload), attachments_ok: "false" } },
        { name: "status", subject: r.subjects.status, queue_group: QUEUE, metadata: null },
      ],
    };
  }

  private stats(r: Registration): Record<string, unknown> {
    const endpoint = (name: string, subject: string, s: EndpointStats) => ({
      name,
      subject,
      queue_group: QUEUE,
      num_requests: s.requests,
      num_errors: s.errors,
      last_error: s.lastError,
      processing_time: s.processingNs,
      average_processing_time: s.requests === 0 ? 0 : Math.round(s.processingNs / s.requests),
    });
    return {
      type: "io.nats.micro.v1.stats_response",
      name: AGENT_PROTOCOL_SERVICE,
      id: r.id,
      version: this.env.version,
      metadata: this.metadata(r),
      started: r.started,
      endpoints: [endpoint("prompt", r.subjects.prompt, r.prompt), endpoint("status", r.subjects.status, r.status)],
    };
  }
}

function emptyStats(): EndpointStats {
  return { requests: 0, errors: 0, processingNs: 0, lastError: "" };
}
