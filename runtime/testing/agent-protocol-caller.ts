// A foreign caller of the NATS agent protocol (0.3), for tests: a raw NATS
// connection and what core-protocol.md says, no Troupe code. Discovery through
// $SRV, a prompt read to its terminator, a query answered.

import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";

const text = new TextEncoder();
const read = new TextDecoder();

/** One message of a response stream: headers (an error), the body, the chunk it decodes to. */
export interface Received {
  headers?: MsgHdrs;
  body: string;
  chunk?: { type: string; data: unknown };
}

/** A `$SRV.INFO.agents` record. */
export interface ServiceInfo {
  name: string;
  id: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  endpoints: Array<{ name: string; subject: string; queue_group: string; metadata: Record<string, string> | null }>;
}

/** Every reply to a $SRV request, expecting `count` of them. */
export async function discover<T>(nc: NatsConnection, subject: string, count: number): Promise<T[]> {
  const out: T[] = [];
  for await (const m of await nc.requestMany(subject, "", { strategy: "count", maxMessages: count, maxWait: 3000 })) out.push(JSON.parse(read.decode(m.data)) as T);
  return out;
}

/**
 * Prompt and read the stream to its terminator (§6.5: zero bytes, no headers).
 * `onQuery` answers a query chunk (§7): what it returns is published to the
 * query's reply subject.
 */
export function prompt(nc: NatsConnection, subject: string, body: string | Uint8Array, onQuery?: (data: Record<string, unknown>) => string): Promise<Received[]> {
  const inbox = createInbox((nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
  const got: Received[] = [];
  return new Promise((resolve, reject) => {
    const sub = nc.subscribe(inbox, {
      callback: (err, m: Msg) => {
        if (err) return reject(err);
        const r: Received = { headers: m.headers, body: read.decode(m.data) };
        got.push(r);
        if (m.data.length === 0 && !m.headers) {
          sub.unsubscribe();
          return resolve(got);
        }
        if (!m.headers) {
          r.chunk = JSON.parse(r.body) as { type: string; data: unknown };
          if (r.chunk.type === "query" && onQuery) {
            const q = r.chunk.data as Record<string, unknown>;
            nc.publish(q.reply_subject as string, onQuery(q));
          }
        }
      },
    });
    nc.publish(subject, typeof body === "string" ? text.encode(body) : body, { reply: inbox });
  });
}

/** The `response` chunks' text, concatenated (§6.3). */
export function responseText(stream: Received[]): string {
  return stream
    .filter((r) => r.chunk?.type === "response")
    .map((r) => (typeof r.chunk!.data === "string" ? r.chunk!.data : (r.chunk!.data as { text: string }).text))
    .join("");
}
