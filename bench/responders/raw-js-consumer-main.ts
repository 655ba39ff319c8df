// The raw nats.js side of the durable throughput measurement, in a process of
// its own (started by responder-processes.ts): a durable pull consumer on a
// stream the caller made, read with `consume()` (nats.js defaults), each
// message decoded, counted and acked, as a nats.js user writes a JetStream
// worker by hand. `<prefix>.expect` with `{ count }` is answered once that
// many messages were counted, so the caller's clock stops when the receiver
// has them all.
//
//   node raw-js-consumer-main.js --servers nats://127.0.0.1:4222 --stream S --subject s.> --prefix bench.rawjs.x

import { decode, encode } from "@msgpack/msgpack";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type Msg } from "@nats-io/transport-node";
import { parseArgs } from "node:util";
import { RAW_CONNECTION_OPTIONS } from "../baselines/raw-nats.js";
import { serveUntilParentLeaves } from "./main-lifecycle.js";

const { values } = parseArgs({ options: { servers: { type: "string" }, stream: { type: "string" }, subject: { type: "string" }, prefix: { type: "string" } } });
const stream = values.stream ?? "BENCH_RAW_JS";
const prefix = values.prefix ?? "bench.rawjs";

await serveUntilParentLeaves("raw-js-consumer", async () => {
  const nc = await connect({ servers: values.servers, name: "troupe-bench-raw-js-consumer", ...RAW_CONNECTION_OPTIONS });
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, { durable_name: "counter", ack_policy: AckPolicy.Explicit, filter_subject: values.subject });
  const consumer = await jetstream(nc).consumers.get(stream, "counter");
  let count = 0;
  const waiting: { count: number; msg: Msg }[] = [];
  const answer = (): void => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (count >= waiting[i]!.count) {
        waiting[i]!.msg.respond(encode(count));
        waiting.splice(i, 1);
      }
    }
  };
  nc.subscribe(`${prefix}.expect`, {
    callback: (err, msg) => {
      if (err) return;
      try {
        waiting.push({ count: (decode(msg.data) as { count: number }).count, msg });
        answer();
      } catch {
        // a request that does not decode gets no answer
      }
    },
  });
  const messages = await consumer.consume();
  void (async () => {
    for await (const m of messages) {
      try {
        decode(m.data);
        count++;
      } catch {
        // not counted
      }
      m.ack();
      if (waiting.length > 0) answer();
    }
  })();
  await nc.flush();
  return async () => {
    messages.stop();
    await nc.close();
  };
});
