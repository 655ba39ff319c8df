// The exposed agent types of a namespace, found the way any NATS client finds
// them (the micro-service contract of runtime/interop/agent-services.ts):
// `$SRV.INFO`, answered by every node for every type it hosts, filtered to the
// services whose metadata names this namespace and says `troupe.exposed: true`.
// And one call to such a type: a JSON request to its `ask` endpoint.

import { headers, type NatsConnection } from "@nats-io/nats-core";
import { Subjects } from "../runtime/subjects.js";

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** An exposed type as $SRV.INFO describes it. */
export interface ExposedType {
  type: string;
  description: string;
  /** The `ask` endpoint's subject for `key`: built here from the namespace and type, never taken from the answer. */
  subject(key: string): string;
  /** The JSON Schema of its message, when the type declares one. */
  inputSchema?: Record<string, unknown>;
}

/** A call's outcome: the reply, or the error the service answered with. */
export type CallOutcome = { ok: true; value: unknown } | { ok: false; status: string; name: string; message: string; error: Record<string, unknown> };

const td = new TextDecoder();
const te = new TextEncoder();

/** Every exposed type of `namespace` that answers $SRV.INFO within `waitMs` (each type once, however many nodes host it). */
export async function discoverExposedTypes(nc: NatsConnection, namespace: string, waitMs = 250): Promise<ExposedType[]> {
  const found = new Map<string, ExposedType>();
  let replies: AsyncIterable<{ data: Uint8Array }>;
  try {
    replies = await nc.requestMany("$SRV.INFO", undefined, { strategy: "stall", stall: waitMs, maxWait: Math.max(2000, waitMs * 4) });
  } catch {
    return [];
  }
  try {
    for await (const m of replies) {
      const t = exposedType(m.data, namespace);
      if (t && !found.has(t.type)) found.set(t.type, t);
    }
  } catch {
    // no responders, or the wait ended: what arrived is the answer
  }
  return [...found.values()].sort((a, b) => a.type.localeCompare(b.type));
}

/** One $SRV.INFO answer, if it is an exposed Troupe type of `namespace`. Hostile input: checked, never thrown. */
function exposedType(data: Uint8Array, namespace: string): ExposedType | undefined {
  let doc: any;
  try {
    doc = JSON.parse(td.decode(data));
  } catch {
    return undefined;
  }
  const meta = doc?.metadata;
  if (!meta || meta["troupe.namespace"] !== namespace || meta["troupe.exposed"] !== "true" || typeof meta["troupe.type"] !== "string") return undefined;
  const type = meta["troupe.type"] as string;
  if (!TOKEN.test(type)) return undefined;
  const ask = Array.isArray(doc.endpoints) ? doc.endpoints.find((e: any) => e?.name === "ask") : undefined;
  // Anyone may answer $SRV.INFO: an answer whose endpoint is not where Troupe puts this type's is not one of ours.
  const subjects = new Subjects(namespace);
  if (ask?.subject !== subjects.serviceAsk(type)) return undefined;
  let inputSchema: Record<string, unknown> | undefined;
  const schemaText = ask.metadata?.["troupe.input_schema"];
  if (typeof schemaText === "string") {
    try {
      const s = JSON.parse(schemaText) as unknown;
      if (s !== null && typeof s === "object" && !Array.isArray(s)) inputSchema = s as Record<string, unknown>;
    } catch {
      // no usable schema: any arguments
    }
  }
  return { type, description: typeof doc.description === "string" ? doc.description : "", subject: (key) => subjects.serviceAsk(type, key), inputSchema };
}

/** Ask one agent of an exposed type through its service endpoint, with a JSON body. */
export async function callExposedType(nc: NatsConnection, t: ExposedType, key: string, message: unknown, timeoutMs: number): Promise<CallOutcome> {
  const h = headers();
  h.set("Troupe-Timeout-Ms", String(timeoutMs));
  const subject = t.subject(key);
  const m = await nc.request(subject, te.encode(JSON.stringify(message ?? null)), { timeout: timeoutMs + 1000, headers: h });
  const status = m.headers?.get("Nats-Service-Error-Code") ?? "";
  const text = td.decode(m.data);
  if (status !== "") {
    let error: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed !== null && typeof parsed === "object") error = parsed as Record<string, unknown>;
    } catch {
      // the header says enough
    }
    const name = typeof error.name === "string" ? error.name : "Error";
    return { ok: false, status, name, message: m.headers?.get("Nats-Service-Error") ?? (typeof error.message === "string" ? error.message : ""), error };
  }
  return { ok: true, value: text === "" ? null : (JSON.parse(text) as unknown) };
}
