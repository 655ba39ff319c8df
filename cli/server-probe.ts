// Is a NATS server answering at a URL? A plain TCP connection that reads the
// server's INFO line: no client, no reconnect loop, done within a second.

import { connect } from "node:net";

/** Host and port of a `nats://host:port` URL (scheme and port optional; the port defaults to 4222). */
export function serverAddress(url: string): { host: string; port: number } {
  const first = url.split(",")[0]!.trim();
  let parsed: URL;
  try {
    parsed = new URL(first.includes("://") ? first : `nats://${first}`);
  } catch {
    throw new Error(`invalid server URL ${JSON.stringify(url)}: expected nats://HOST:PORT`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = parsed.port === "" ? 4222 : Number(parsed.port);
  return { host, port };
}

/** What a server says about itself in its INFO line (the fields agentctl reads). */
export interface ServerInfo {
  server_name?: string;
  version?: string;
  jetstream?: boolean;
}

/** The INFO a NATS server at `url` sends within `timeoutMs`, or null when none answers. */
export function probeServer(url: string, timeoutMs = 1000): Promise<ServerInfo | null> {
  const { host, port } = serverAddress(url);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let buf = "";
    const done = (info: ServerInfo | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(info);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      const end = buf.indexOf("\r\n");
      if (end < 0) return;
      const line = buf.slice(0, end);
      if (!line.startsWith("INFO ")) return done(null);
      try {
        done(JSON.parse(line.slice(5)) as ServerInfo);
      } catch {
        done(null);
      }
    });
    socket.on("error", () => done(null));
    socket.on("close", () => done(null));
  });
}

/** Whether a NATS server answers at `url`. */
export async function serverAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  return (await probeServer(url, timeoutMs)) !== null;
}
