// Is a NATS server answering at a URL? A plain TCP connection that reads the
// server's INFO line: no client, no reconnect loop, done within a second.

import { readServerInfo, type ServerInfo } from "../runtime/testing/nats-server.js";

export type { ServerInfo };

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

/** The INFO a NATS server at `url` sends within `timeoutMs`, or null when none answers. */
export function probeServer(url: string, timeoutMs = 1000): Promise<ServerInfo | null> {
  const { host, port } = serverAddress(url);
  return readServerInfo(host, port, timeoutMs);
}

/** Whether a NATS server answers at `url`. */
export async function serverAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  return (await probeServer(url, timeoutMs)) !== null;
}
