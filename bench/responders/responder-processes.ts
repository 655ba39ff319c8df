// Starts the responding side of the throughput scenario, each in a process of
// its own as users deploy it: a Troupe node, a raw nats.js service, a
// Moleculer broker; and for durable throughput, a raw JetStream consumer.
// The processes are killed when this one exits (see child-process.ts);
// `stop()` ends one gracefully.

import { childMain, startChildProcess, type ChildHandle } from "../child-process.js";

export interface ResponderOptions {
  servers: string;
  /** How long to wait for the process to be ready (default 30 s: under tsx the sources compile first). */
  readyTimeoutMs?: number;
}

/** A Troupe node hosting echo/e1, bench-tally/t1 and bench-history/{small,large} (see bench-agents.ts). */
export function startTroupeResponder(o: ResponderOptions & { namespace: string; name: string; credentials?: string }): Promise<ChildHandle> {
  return startChildProcess({
    main: childMain(import.meta.url, "./troupe-responder-main"),
    args: ["--servers", o.servers, "--namespace", o.namespace, "--name", o.name, ...(o.credentials ? ["--credentials", o.credentials] : [])],
    label: `Troupe responder process ${o.name}`,
    readyTimeoutMs: o.readyTimeoutMs,
  });
}

/** Raw nats.js subscriptions on `<prefix>.echo` and `<prefix>.pubsub` (see raw-responder-main.ts), connected with `credentials` when given. */
export function startRawResponder(o: ResponderOptions & { prefix: string; credentials?: string }): Promise<ChildHandle> {
  return startChildProcess({
    main: childMain(import.meta.url, "./raw-responder-main"),
    args: ["--servers", o.servers, "--prefix", o.prefix, ...(o.credentials ? ["--credentials", o.credentials] : [])],
    label: "raw nats.js responder process",
    readyTimeoutMs: o.readyTimeoutMs,
  });
}

/** A Moleculer broker with the `echo.echo` action, in Moleculer namespace `namespace`. */
export function startMoleculerResponder(o: ResponderOptions & { namespace: string }): Promise<ChildHandle> {
  return startChildProcess({
    main: childMain(import.meta.url, "./moleculer-responder-main"),
    args: ["--servers", o.servers, "--namespace", o.namespace],
    label: "Moleculer responder process",
    readyTimeoutMs: o.readyTimeoutMs,
  });
}

/** A durable pull consumer on `stream` (filter `subject`) that counts and acks each message (see raw-js-consumer-main.ts). */
export function startRawJsConsumer(o: ResponderOptions & { stream: string; subject: string; prefix: string }): Promise<ChildHandle> {
  return startChildProcess({
    main: childMain(import.meta.url, "./raw-js-consumer-main"),
    args: ["--servers", o.servers, "--stream", o.stream, "--subject", o.subject, "--prefix", o.prefix],
    label: "raw nats.js JetStream consumer process",
    readyTimeoutMs: o.readyTimeoutMs,
  });
}
