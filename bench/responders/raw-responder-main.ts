// The raw nats.js side of the throughput scenario, in a process of its own
// (started by responder-processes.ts): plain callback subscriptions, as a
// nats.js user writes a service by hand, on a connection with the baseline
// options (RAW_CONNECTION_OPTIONS, no tuning), with a credentials file when
// the server wants one.
//
// - `<prefix>.echo`: decodes each request and replies with it, re-encoded.
// - `<prefix>.pubsub`: decodes and counts each message; one that carries a
//   reply subject (`{ op: "count" }`) is answered with the count so far.
//
//   node raw-responder-main.js --servers nats://127.0.0.1:4222 --prefix bench.raw.x [--credentials node.creds]

import { decode, encode } from "@msgpack/msgpack";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { RAW_CONNECTION_OPTIONS } from "../baselines/raw-nats.js";
import { serveUntilParentLeaves } from "./main-lifecycle.js";

const { values } = parseArgs({ options: { servers: { type: "string" }, prefix: { type: "string" }, credentials: { type: "string" } } });
const prefix = values.prefix ?? "bench.raw";

await serveUntilParentLeaves("raw-responder", async () => {
  const authenticator = values.credentials ? credsAuthenticator(await readFile(values.credentials)) : undefined;
  const nc = await connect({ servers: values.servers, name: "troupe-bench-raw-responder", ...RAW_CONNECTION_OPTIONS, ...(authenticator ? { authenticator } : {}) });
  nc.subscribe(`${prefix}.echo`, {
    callback: (err, msg) => {
      if (err) return;
      try {
        msg.respond(encode(decode(msg.data)));
      } catch {
        // a request that does not decode gets no answer
      }
    },
  });
  let count = 0;
  nc.subscribe(`${prefix}.pubsub`, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const body = decode(msg.data) as { op?: unknown };
        if (msg.reply) msg.respond(encode(count));
        else if (body.op === "inc") count++;
      } catch {
        // not counted
      }
    },
  });
  await nc.flush();
  return () => nc.close();
});
