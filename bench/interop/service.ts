// The cost of the NATS micro-service registration on the normal ask path, and
// what the svc endpoint itself does. Two nodes, each in a process of its own as
// in the throughput scenario, hosting an echo: one with the type registered as
// a micro service (the default), one with `service: false`, in namespaces of
// their own on the same server. A client asks echo/e1 with 64 in flight,
// alternating rounds between the two (a warm-up round each first); the figure
// is the median of the rounds and of the per-round ratios (goal >= 0.95: the
// registration is a separate subject, the ask path does not see it). Then a raw
// nats.js connection (no Troupe code) requests the svc endpoint
// `troupe.<ns>.svc.echo.e1` with the same message as a JSON body, 64 in
// flight, in the same rounds.
//
// Run on its own: `npx tsx bench/interop/service.ts [asksPerRound] [rounds]`
// (it starts a throwaway nats-server).

import { connect } from "@nats-io/transport-node";
import { connectClient } from "../../runtime/client.js";
import { windowed } from "../baselines/raw-nats.js";
import { childMain, startChildProcess, type ChildHandle } from "../child-process.js";
import { median, opsPerSecond } from "../stats.js";

export interface ServiceBenchOptions {
  servers: string;
  /** Asks per round (default 20,000). */
  asks?: number;
  /** Measured rounds of each (default 5). */
  rounds?: number;
  /** Namespace prefix; `<prefix>on` and `<prefix>off`. */
  namespace?: string;
}

export interface ServiceBenchFigures {
  asks: number;
  rounds: number;
  window: number;
  /** Troupe asks/s to a type registered as a micro service (median of the rounds). */
  asksPerSecServiceOn: number;
  /** Troupe asks/s to a type with `service: false`. */
  asksPerSecServiceOff: number;
  /** Median of the rounds' on/off ratios (goal >= 0.95). */
  ratio: number;
  /** Requests/s through the svc endpoint from a raw NATS client with a JSON body (median of the rounds). */
  svcRequestsPerSec: number;
  onPerRound: number[];
  offPerRound: number[];
  svcPerRound: number[];
}

const WINDOW = 64;
const PAYLOAD = { order: "o-123456", amount: 42.5, currency: "EUR", lines: [1, 2, 3], note: "x".repeat(40) };

function startServiceNode(servers: string, namespace: string, service: "on" | "off"): Promise<ChildHandle> {
  return startChildProcess({
    main: childMain(import.meta.url, "./service-node-main"),
    args: ["--servers", servers, "--namespace", namespace, "--name", `svc-bench-${service}`, "--service", service],
    label: `micro-service bench node (service ${service})`,
  });
}

/** Measure asks/s with the micro-service registration on against off, and the svc endpoint from a raw client. */
export async function measureServiceRegistration(o: ServiceBenchOptions): Promise<ServiceBenchFigures> {
  const asks = o.asks ?? 20_000;
  const rounds = o.rounds ?? 5;
  const prefix = o.namespace ?? `svcbench${process.pid}`;
  const [onNode, offNode] = await Promise.all([startServiceNode(o.servers, `${prefix}on`, "on"), startServiceNode(o.servers, `${prefix}off`, "off")]);
  const on = await connectClient({ servers: o.servers, namespace: `${prefix}on`, name: "svc-bench-client-on" });
  const off = await connectClient({ servers: o.servers, namespace: `${prefix}off`, name: "svc-bench-client-off" });
  const raw = await connect({ servers: o.servers, name: "svc-bench-raw" });
  try {
    const onRef = on.ref("echo", "e1");
    const offRef = off.ref("echo", "e1");
    const body = new TextEncoder().encode(JSON.stringify(PAYLOAD));
    const svcSubject = `troupe.${prefix}on.svc.echo.e1`;
    const round = async (call: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await windowed(asks, WINDOW, async () => void (await call()));
      return opsPerSecond(asks, performance.now() - t0);
    };
    const askOn = () => onRef.ask(PAYLOAD);
    const askOff = () => offRef.ask(PAYLOAD);
    const svc = async () => {
      const m = await raw.request(svcSubject, body, { timeout: 5000 });
      if (m.headers?.get("Nats-Service-Error-Code")) throw new Error(`svc endpoint: ${m.headers.get("Nats-Service-Error")}`);
    };
    await round(askOn);
    await round(askOff);
    await round(svc);
    const onPerRound: number[] = [];
    const offPerRound: number[] = [];
    const svcPerRound: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so drift in the machine's load falls on both.
      if (r % 2 === 0) {
        onPerRound.push(await round(askOn));
        offPerRound.push(await round(askOff));
      } else {
        offPerRound.push(await round(askOff));
        onPerRound.push(await round(askOn));
      }
      svcPerRound.push(await round(svc));
    }
    return {
      asks,
      rounds,
      window: WINDOW,
      asksPerSecServiceOn: median(onPerRound),
      asksPerSecServiceOff: median(offPerRound),
      ratio: median(onPerRound.map((x, i) => x / offPerRound[i]!)),
      svcRequestsPerSec: median(svcPerRound),
      onPerRound,
      offPerRound,
      svcPerRound,
    };
  } finally {
    await raw.close();
    await on.close();
    await off.close();
    await Promise.all([onNode.stop(), offNode.stop()]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { startNatsServer } = await import("../../runtime/testing/nats-server.js");
  const server = await startNatsServer({ jetstream: true });
  try {
    const [asks, rounds] = process.argv.slice(2).map(Number);
    console.log(JSON.stringify(await measureServiceRegistration({ servers: server.url, asks: asks || undefined, rounds: rounds || undefined }), null, 2));
  } finally {
    await server.stop();
  }
}
