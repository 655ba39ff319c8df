// A NATS client written on a bare TCP socket, for what no well-behaved client
// library will send: it subscribes to a subject and answers every request with
// a header block of our choosing (malformed on purpose), byte for byte.

import { connect, type Socket } from "node:net";

/** A responder on one subject; `close()` ends its connection. */
export interface RawResponder {
  /** Requests answered so far. */
  readonly answered: number;
  close(): void;
}

/**
 * Answer each request on `subject` with `headerBlock` (sent verbatim as the
 * HPUB header section, e.g. "NATS/1.0\r\nBad Header: x\r\n\r\n") and `body`.
 */
export async function rawResponder(url: string, subject: string, headerBlock: string, body = "x"): Promise<RawResponder> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  let answered = 0;
  let buffered = Buffer.alloc(0);
  let skip = 0; // payload bytes (plus CRLF) of a MSG still to pass over
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buffered.length);
          buffered = buffered.subarray(n);
          skip -= n;
          if (skip > 0) return;
        }
        const end = buffered.indexOf("\r\n");
        if (end < 0) return;
        const line = buffered.subarray(0, end).toString();
        buffered = buffered.subarray(end + 2);
        if (line.startsWith("INFO ")) {
          socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\nSUB ${subject} 1\r\nPING\r\n`);
        } else if (line === "PING") {
          socket.write("PONG\r\n");
        } else if (line === "PONG") {
          resolve();
        } else if (line.startsWith("MSG ")) {
          const parts = line.split(" "); // MSG <subject> <sid> [reply] <bytes>
          skip = Number(parts[parts.length - 1]) + 2;
          const reply = parts.length === 5 ? parts[3] : undefined;
          if (reply) {
            const total = Buffer.byteLength(headerBlock) + Buffer.byteLength(body);
            socket.write(`HPUB ${reply} ${Buffer.byteLength(headerBlock)} ${total}\r\n${headerBlock}${body}\r\n`);
            answered++;
          }
        }
      }
    });
  });
  await ready;
  return {
    get answered() {
      return answered;
    },
    close: () => socket.destroy(),
  };
}
