// The NATS micro-service protocol (ADR-32, "Service API"), served for a set of
// services on one connection: discovery on `$SRV.PING|INFO|STATS` (and their
// `.<name>` and `.<name>.<id>` forms), endpoints in queue groups, and per
// endpoint the request and error counts, processing time and last error.
//
// Written here rather than taken from `@nats-io/services`: the registry has it
// only as prereleases (3.0.0-25), which need an npm override to share
// nats-core 3.4 with the rest; the protocol is a few JSON documents; and the
// endpoints need what the library does not give: one set of discovery
// subscriptions for all the types of a node, reply subjects checked before
// anything is sent, and processing time taken until an asynchronous answer is
// sent (the library times the synchronous handler call).

import { headers as natsHeaders, nuid, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { Clock } from "../clock.js";
import { isReplySubject, type Subjects } from "../subjects.js";

/** Header names of the micro protocol's error replies. */
export const SERVICE_ERROR_HEADER = "Nats-Service-Error";
export const SERVICE_ERROR_CODE_HEADER = "Nats-Service-Error-Code";

/** Longest `last_error` kept in the stats. */
const LAST_ERROR_LIMIT = 512;

/** How an endpoint ends one request: the caller's reply, with its headers, or an error. */
export interface EndpointRequest {
  readonly msg: Msg;
  /** Answer; counts the request, its processing time. False when the answer could not be sent. */
  respond(data: Uint8Array, headers?: MsgHdrs): boolean;
  /** Answer with an error (the two error headers, `body` as the body); counts it as an error. */
  fail(code: number, message: string, body?: Uint8Array, contentType?: string): void;
  /** Count a request that gets no answer (no or a refused reply subject) as an error. */
  drop(reason: string): void;
  /** Count a request that needs no answer (a tell without a reply subject) as done. */
  done(): void;
}

export interface EndpointSpec {
  readonly name: string;
  readonly subject: string;
  readonly queueGroup: string;
  readonly metadata: Record<string, string>;
  /** Never throws: errors are answered through the request. */
  readonly handle: (request: EndpointRequest) => void;
}

export interface ServiceSpec {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly metadata: Record<string, string>;
  readonly endpoints: readonly EndpointSpec[];
}

/** One endpoint's figures, as `$SRV.STATS` reports them (times in nanoseconds). */
export interface EndpointStats {
  name: string;
  subject: string;
  queue_group: string;
  num_requests: number;
  num_errors: number;
  last_error: string;
  processing_time: number;
  average_processing_time: number;
}

class Endpoint {
  requests = 0;
  errors = 0;
  lastError = "";
  processingMs = 0;
  sub: Subscription | undefined;
  constructor(readonly spec: EndpointSpec) {}

  stats(): EndpointStats {
    const ns = Math.round(this.processingMs * 1e6);
    return {
      name: this.spec.name,
      subject: this.spec.subject,
      queue_group: this.spec.queueGroup,
      num_requests: this.requests,
      num_errors: this.errors,
      last_error: this.lastError,
      processing_time: ns,
      average_processing_time: this.requests === 0 ? 0 : Math.round(ns / this.requests),
    };
  }
}

class Service {
  readonly id = nuid.next();
  readonly endpoints: Endpoint[];
  started = "";
  subs: Subscription[] = [];
  constructor(readonly spec: ServiceSpec) {
    this.endpoints = spec.endpoints.map((e) => new Endpoint(e));
  }

  private base(type: string): Record<string, unknown> {
    return { type, name: this.spec.name, id: this.id, version: this.spec.version, metadata: this.spec.metadata };
  }
  ping(): Record<string, unknown> {
    return this.base("io.nats.micro.v1.ping_response");
  }
  info(): Record<string, unknown> {
    return {
      ...this.base("io.nats.micro.v1.info_response"),
      description: this.spec.description,
      endpoints: this.endpoints.map((e) => ({ name: e.spec.name, subject: e.spec.subject, queue_group: e.spec.queueGroup, metadata: e.spec.metadata })),
    };
  }
  stats(): Record<string, unknown> {
    return { ...this.base("io.nats.micro.v1.stats_response"), started: this.started, endpoints: this.endpoints.map((e) => e.stats()) };
  }
}

const json = new TextEncoder();

/** The micro services of one node, on its connection. */
export class MicroServices {
  private readonly services: Service[] = [];
  private shared: Subscription[] = [];
  private open = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly clock: Clock,
  ) {}

  /** Subscribe every endpoint and the discovery subjects; resolves when the server has them. */
  async start(specs: readonly ServiceSpec[]): Promise<void> {
    if (specs.length === 0) return;
    this.open = true;
    const started = new Date(this.clock.now()).toISOString();
    for (const spec of specs) {
      const service = new Service(spec);
      service.started = started;
      this.services.push(service);
      for (const e of service.endpoints) {
        e.sub = this.nc.subscribe(e.spec.subject, { queue: e.spec.queueGroup, callback: (err, msg) => void (err || this.request(e, msg)) });
      }
      const own = (err: Error | null, msg: Msg): void => void (err || this.discovery(msg, [service]));
      service.subs.push(
        this.nc.subscribe(this.subjects.serviceDiscovery("*", spec.name), { callback: own }),
        this.nc.subscribe(this.subjects.serviceDiscovery("*", spec.name, service.id), { callback: own }),
      );
    }
    const all = (err: Error | null, msg: Msg): void => void (err || this.discovery(msg, this.services));
    this.shared = (["PING", "INFO", "STATS"] as const).map((verb) => this.nc.subscribe(this.subjects.serviceDiscovery(verb), { callback: all }));
    await this.nc.flush();
  }

  /** Stop answering: endpoints and discovery. Requests under way still get their answer. */
  stop(): void {
    this.open = false;
    for (const s of this.shared) s.unsubscribe();
    for (const service of this.services) {
      for (const s of service.subs) s.unsubscribe();
      for (const e of service.endpoints) e.sub?.unsubscribe();
    }
    this.shared = [];
    this.services.length = 0;
  }

  /** The stats of each service (what `$SRV.STATS` answers), for tests and benches. */
  stats(): Record<string, unknown>[] {
    return this.services.map((s) => s.stats());
  }

  private discovery(msg: Msg, services: readonly Service[]): void {
    if (!this.open || !msg.reply || !isReplySubject(msg.reply)) return;
    const verb = msg.subject.split(".")[1];
    for (const s of services) {
      const doc = verb === "PING" ? s.ping() : verb === "INFO" ? s.info() : verb === "STATS" ? s.stats() : undefined;
      if (doc === undefined) return;
      try {
        msg.respond(json.encode(JSON.stringify(doc)));
      } catch {
        // the connection is closing; nothing to answer
      }
    }
  }

  private request(e: Endpoint, msg: Msg): void {
    const began = this.clock.now();
    let done = false;
    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      e.requests++;
      e.processingMs += Math.max(0, this.clock.now() - began);
      if (error !== undefined) {
        e.errors++;
        e.lastError = error.length > LAST_ERROR_LIMIT ? `${error.slice(0, LAST_ERROR_LIMIT - 1)}…` : error;
      }
    };
    const send = (data: Uint8Array, h?: MsgHdrs): boolean => {
      if (!msg.reply || !isReplySubject(msg.reply)) return false;
      try {
        return msg.respond(data, h ? { headers: h } : undefined);
      } catch {
        return false;
      }
    };
    const request: EndpointRequest = {
      msg,
      respond: (data, h) => {
        const sent = send(data, h);
        finish(sent ? undefined : "reply not sent");
        return sent;
      },
      fail: (code, message, body, contentType) => {
        const h = natsHeaders();
        h.set(SERVICE_ERROR_HEADER, headerText(message));
        h.set(SERVICE_ERROR_CODE_HEADER, String(code));
        if (contentType !== undefined) h.set("Content-Type", contentType);
        send(body ?? new Uint8Array(0), h);
        finish(`${code}:${message}`);
      },
      drop: (reason) => finish(reason),
      done: () => finish(),
    };
    try {
      e.spec.handle(request);
    } catch (err) {
      request.fail(500, err instanceof Error ? err.message : String(err));
    }
  }
}

/** A header value: one line, printable, bounded. */
function headerText(text: string): string {
  const line = text.replace(/[\r\n\t\x00-\x1f\x7f]+/g, " ");
  return line.length > 256 ? `${line.slice(0, 255)}…` : line;
}
