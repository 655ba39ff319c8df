// Every agent type a node hosts (unless `service: false`), as a NATS micro
// service any NATS client can find and call with no Troupe code:
//
//   service   troupe-<ns>-<type>, version = Troupe's, metadata troupe.namespace,
//             troupe.type, troupe.exposed ("true"|"false"), troupe.node
//   ask       troupe.<ns>.svc.<type>.<key>       request/reply, queue group troupe-svc
//   tell      troupe.<ns>.svc-tell.<type>.<key>  empty reply when a reply subject is given
//
// Body: JSON (default) or MessagePack (`Content-Type: application/msgpack`);
// the answer comes in the request's content type. `Troupe-Timeout-Ms` sets the
// ask's timeout. The node asks `type/key` through the normal ref path, so
// on-demand agents activate and failures are the usual typed errors; those
// come back with the `Nats-Service-Error` and `Nats-Service-Error-Code`
// headers (service-status.ts) and the wire error as a JSON body.

import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { createRequire } from "node:module";
import type { Clock } from "../clock.js";
import { decodeValue, encodeValue } from "../codec.js";
import type { AgentType } from "../define-agent.js";
import { InvalidMessageError, PermissionDeniedError, toWireError, type WireError } from "../errors.js";
import type { AgentRef } from "../agent-ref.js";
import { formatAgentId, isReplySubject, replySubjectProblem, validateToken, type Subjects } from "../subjects.js";
import { MicroServices, type EndpointRequest, type EndpointSpec, type ServiceSpec } from "./micro-services.js";
import { serviceStatus } from "./service-status.js";

export const CONTENT_JSON = "application/json";
export const CONTENT_MSGPACK = "application/msgpack";
/** The request header that sets an ask's timeout, in milliseconds. */
export const TIMEOUT_HEADER = "Troupe-Timeout-Ms";
/** The longest timeout a caller may ask for (10 minutes). */
export const MAX_SERVICE_TIMEOUT_MS = 600_000;

/** Metadata keys of the services and endpoints (the contract `agentctl mcp` and foreign clients read). */
export const ServiceMeta = {
  Namespace: "troupe.namespace",
  Type: "troupe.type",
  Exposed: "troupe.exposed",
  Node: "troupe.node",
  InputSchema: "troupe.input_schema",
  ContentTypes: "troupe.content_types",
} as const;

export interface AgentServicesEnv {
  nc: NatsConnection;
  subjects: Subjects;
  clock: Clock;
  nodeId: string;
  maxMessageBytes: number;
  askTimeoutMs: number;
  /** A ref that asks and tells as nobody in particular (the caller is outside Troupe). */
  ref: (type: string, key: string) => AgentRef;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const text = new TextEncoder();

/** The micro services of the types one node hosts. */
export class AgentServices {
  private readonly micro: MicroServices;

  constructor(
    private readonly env: AgentServicesEnv,
    private readonly types: readonly AgentType[],
  ) {
    this.micro = new MicroServices(env.nc, env.subjects, env.clock);
  }

  /** Register every type with `service !== false`; resolves when the server has the subscriptions. */
  async start(): Promise<void> {
    await this.micro.start(this.types.filter((t) => t.service !== false).map((t) => this.spec(t)));
  }

  stop(): void {
    this.micro.stop();
  }

  /** What `$SRV.STATS` reports for this node's services. */
  stats(): Record<string, unknown>[] {
    return this.micro.stats();
  }

  private spec(def: AgentType): ServiceSpec {
    const s = this.env.subjects;
    const endpointMeta: Record<string, string> = { [ServiceMeta.ContentTypes]: `${CONTENT_JSON},${CONTENT_MSGPACK}` };
    if (def.expose?.inputSchema !== undefined) endpointMeta[ServiceMeta.InputSchema] = JSON.stringify(def.expose.inputSchema);
    const endpoint = (name: string, subject: string, tell: boolean): EndpointSpec => ({
      name,
      subject,
      queueGroup: s.serviceQueue(),
      metadata: endpointMeta,
      handle: (request) => void this.handle(def, request, tell),
    });
    return {
      name: s.serviceName(def.type),
      version: troupeVersion(),
      description: def.expose?.description ?? `Troupe agent type ${def.type} in namespace ${s.ns}: ask troupe.${s.ns}.svc.${def.type}.<key> with a JSON body`,
      metadata: {
        [ServiceMeta.Namespace]: s.ns,
        [ServiceMeta.Type]: def.type,
        [ServiceMeta.Exposed]: def.expose !== undefined ? "true" : "false",
        [ServiceMeta.Node]: this.env.nodeId,
      },
      endpoints: [endpoint("ask", s.serviceAsk(def.type), false), endpoint("tell", s.serviceTell(def.type), true)],
    };
  }

  /** One request: decode, ask or tell, answer. Never throws. */
  private async handle(def: AgentType, request: EndpointRequest, tell: boolean): Promise<void> {
    const { msg } = request;
    if (!msg.reply && !tell) return request.drop("no reply subject");
    if (msg.reply && !isReplySubject(msg.reply)) return request.drop(replySubjectProblem(msg.reply));
    let contentType = CONTENT_JSON;
    try {
      contentType = requestContentType(msg.headers);
      if (msg.data.length > this.env.maxMessageBytes) {
        return fail(request, 413, new InvalidMessageError(`${msg.data.length} bytes is over the limit of ${this.env.maxMessageBytes}`));
      }
      const key = validateToken("agent key", this.env.subjects.serviceKey(msg.subject) ?? "");
      if (def.requireVerifiedSender) {
        throw new PermissionDeniedError("message", formatAgentId(def.type, key), "", "the type accepts only verified senders, and a micro-service request carries no proof");
      }
      const timeoutMs = requestTimeout(msg.headers, this.env.askTimeoutMs);
      const body = decodeBody(msg.data, contentType);
      const ref = this.env.ref(def.type, key);
      if (tell) {
        await ref.tell(body);
        if (msg.reply) request.respond(new Uint8Array(0));
        else request.done();
        return;
      }
      const reply = await ref.ask(body, { timeoutMs });
      let data: Uint8Array;
      try {
        data = encodeBody(reply, contentType);
      } catch (err) {
        return fail(request, 500, err);
      }
      if (data.length > this.env.maxMessageBytes) {
        return fail(request, 413, new InvalidMessageError(`the reply (${data.length} bytes) is over the limit of ${this.env.maxMessageBytes}`));
      }
      const h = natsHeaders();
      h.set("Content-Type", contentType);
      if (!request.respond(data, h)) fail(request, 413, new InvalidMessageError("the reply could not be sent"));
    } catch (err) {
      fail(request, undefined, err);
    }
  }
}

/** Answer with an error: status from the error's code unless given, the wire error as JSON. */
function fail(request: EndpointRequest, status: number | undefined, err: unknown): void {
  const wire: WireError = toWireError(err);
  const body = text.encode(JSON.stringify({ ...wire.fields, name: wire.name, code: wire.code, message: wire.message }));
  request.fail(status ?? serviceStatus(wire.code), wire.message, body, CONTENT_JSON);
}

function requestContentType(h: MsgHdrs | undefined): string {
  const raw = h?.get("Content-Type") ?? "";
  const type = raw.split(";")[0]!.trim().toLowerCase();
  if (type === "" || type === CONTENT_JSON) return CONTENT_JSON;
  if (type === CONTENT_MSGPACK || type === "application/x-msgpack" || type === "application/vnd.msgpack") return CONTENT_MSGPACK;
  throw new InvalidMessageError(`content type ${JSON.stringify(raw.slice(0, 64))} is not ${CONTENT_JSON} or ${CONTENT_MSGPACK}`);
}

function requestTimeout(h: MsgHdrs | undefined, fallback: number): number {
  const raw = h?.get(TIMEOUT_HEADER) ?? "";
  if (raw === "") return fallback;
  const ms = /^[0-9]{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(ms >= 1 && ms <= MAX_SERVICE_TIMEOUT_MS)) {
    throw new InvalidMessageError(`${TIMEOUT_HEADER} must be a whole number of milliseconds from 1 to ${MAX_SERVICE_TIMEOUT_MS}, got ${JSON.stringify(raw.slice(0, 32))}`);
  }
  return ms;
}

/** The message a request carries; an empty body is `null`. */
function decodeBody(data: Uint8Array, contentType: string): unknown {
  if (data.length === 0) return null;
  if (contentType === CONTENT_MSGPACK) return decodeValue(data);
  let source: string;
  try {
    source = utf8.decode(data);
  } catch {
    throw new InvalidMessageError("the body is not UTF-8 text (send JSON, or set Content-Type: application/msgpack)");
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (err) {
    throw new InvalidMessageError(`the body is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function encodeBody(value: unknown, contentType: string): Uint8Array {
  if (contentType === CONTENT_MSGPACK) return encodeValue(value ?? null);
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  } catch (err) {
    throw new InvalidMessageError(`the reply does not encode as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return text.encode(json ?? "null");
}

let version: string | undefined;

/** Troupe's package version (the services' version). */
export function troupeVersion(): string {
  if (version === undefined) {
    try {
      version = String((createRequire(import.meta.url)("troupe/package.json") as { version?: unknown }).version ?? "0.0.0");
    } catch {
      version = "0.0.0";
    }
  }
  return version;
}
