// `agentctl dashboard`'s web server: node:http on 127.0.0.1 (by default), the
// page and its script and style (files of the package, no network needed), a
// JSON API and a Server-Sent Events stream of events and snapshots. Every
// request is checked by request-guard.ts first; a bad request gets a 4xx JSON
// error and nothing a request sends can crash the server.

import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseAgentId, type TroupeClient } from "../../actors/index.js";
import { errorSentence, exitCodeOf, ExitCode } from "../exit-code.js";
import { packageRoot } from "../package-root.js";
import { agentDetail } from "./agent-detail.js";
import { LiveFeed, type LiveFeedOptions } from "./live-feed.js";
import { allowedHosts, checkApiRequest, checkHost, newToken } from "./request-guard.js";

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The client the dashboard reads the namespace and answers approvals through. */
  client: TroupeClient;
  /** The address to listen on; default 127.0.0.1 (this machine only). */
  host?: string;
  /** The port; default 0 (a free one). */
  port?: number;
  /** How the live feed paces snapshots. */
  feed?: LiveFeedOptions;
  /** How long an approve or deny from the page waits for the agent's answer; default 5000 ms. */
  approvalTimeoutMs?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** The address to open, with this run's token in its fragment: `http://127.0.0.1:7070/#token=...` (what agentctl prints). */
  readonly url: string;
  readonly port: number;
  /** This run's token: every API request sends it as the `x-troupe-token` header (the page reads it from {@link url}'s fragment). */
  readonly token: string;
  /** Stop serving: close the event streams and the listening socket. */
  close(): Promise<void>;
}

/** The largest request body (an approve or a deny) read. */
const MAX_BODY_BYTES = 16 * 1024;
/** The longest reason a deny may give. */
const MAX_REASON_CHARS = 2000;

/** A request the dashboard refuses, with its HTTP status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status of an error a call to the namespace failed with. */
function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  switch (exitCodeOf(err)) {
    case ExitCode.Usage:
      return 400;
    case ExitCode.NotFound:
      return 404;
    case ExitCode.PermissionDenied:
      return 403;
    case ExitCode.Timeout:
      return 504;
    case ExitCode.NotConnected:
      return 502;
    default:
      return 500;
  }
}

/** The page, its script and its style, read once from the package. */
function loadAssets(): { html: string; js: string; css: string } {
  const dir = join(packageRoot(), "cli", "dashboard", "assets");
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return { html: read("index.html"), js: read("dashboard.js"), css: read("dashboard.css") };
}

/** Text safe inside an HTML attribute. */
function attr(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/**
 * Serve the dashboard for `client`'s namespace.
 *
 * @example
 * const dashboard = await startDashboard({ client, port: 7070 });
 * console.log(dashboard.url); // http://127.0.0.1:7070/#token=... (open it: the page reads the token from the fragment)
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { client } = options;
  const host = options.host ?? "127.0.0.1";
  const token = newToken();
  const assets = loadAssets();
  const page = assets.html.replaceAll("{{NAMESPACE}}", attr(client.namespace));
  const feed = new LiveFeed(client, options.feed);
  // Events from now on reach the pages.
  await feed.ready;
  const approvalTimeoutMs = options.approvalTimeoutMs ?? 5000;
  let allowed = new Set<string>();
  let port = 0;

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, "application/json; charset=utf-8", JSON.stringify(value));

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split("/").slice(2).map(pathPart);
    const method = req.method ?? "GET";
    if (parts.length === 1 && parts[0] === "events") {
      if (method !== "GET") throw new HttpError(405, "the event stream is read with GET");
      if (feed.full) throw new HttpError(503, "too many dashboard pages are open");
      return feed.open(res);
    }
    if (parts.length === 1 && parts[0] === "snapshot") {
      if (method !== "GET") throw new HttpError(405, "the snapshot is read with GET");
      return json(res, 200, (await feed.snapshot()) ?? null);
    }
    if (parts[0] === "agents" && parts.length === 3) {
      if (method !== "GET") throw new HttpError(405, "an agent is read with GET");
      const id = agentIdOf(parts[1]!, parts[2]!);
      const running = (feed.last ?? (await feed.snapshot()))?.agents.find((a) => a.id === id);
      return json(res, 200, await agentDetail(client, id, running));
    }
    if (parts[0] === "agents" && parts.length === 5 && parts[3] === "approvals") {
      if (method !== "POST") throw new HttpError(405, "an approval is answered with POST");
      const id = agentIdOf(parts[1]!, parts[2]!);
      const body = decision(await readBody(req));
      const ref = client.ref(id);
      const answer =
        body.decision === "approve"
          ? await ref.approve(parts[4]!, { timeoutMs: approvalTimeoutMs })
          : await ref.deny(parts[4]!, body.reason, { timeoutMs: approvalTimeoutMs });
      return json(res, 200, answer);
    }
    throw new HttpError(404, `no such API: ${url.pathname}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = req.headers.host;
    const refusedHost = checkHost(allowed, hostHeader);
    if (refusedHost) return json(res, refusedHost.status, { error: refusedHost.error });
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (url.pathname.startsWith("/api/")) {
      const refused = checkApiRequest(token, {
        method: req.method ?? "GET",
        host: hostHeader!,
        origin: req.headers.origin,
        headerToken: single(req.headers["x-troupe-token"]),
      });
      if (refused) return json(res, refused.status, { error: refused.error });
      return api(req, res, url);
    }
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "the page is read with GET");
    switch (url.pathname) {
      case "/":
      case "/index.html": {
        // Anyone may have the page: it holds no secret (the token stays in the fragment, read by the script).
        return send(res, 200, "text/html; charset=utf-8", page);
      }
      case "/dashboard.js":
        return send(res, 200, "text/javascript; charset=utf-8", assets.js);
      case "/dashboard.css":
        return send(res, 200, "text/css; charset=utf-8", assets.css);
      default:
        throw new HttpError(404, `no such page: ${url.pathname}`);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const status = statusOf(err);
      json(res, status, { error: status === 500 && !(err instanceof Error) ? "internal error" : errorSentence(err) });
    });
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((err: unknown) => {
    feed.close();
    throw err;
  });
  port = (server.address() as AddressInfo).port;
  allowed = allowedHosts(host, port);
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/#token=${token}`,
    port,
    token,
    close: async () => {
      feed.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A part of the path, decoded (400 when its escapes are malformed). */
function pathPart(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new HttpError(400, `malformed path part ${JSON.stringify(p)}`);
  }
}

/** One value of a header that may repeat. */
function single(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** `type/key` from the path's two parts, checked (InvalidArgumentError, 400, when bad). */
function agentIdOf(type: string, key: string): string {
  const p = parseAgentId(`${type}/${key}`);
  return `${p.type}/${p.key}`;
}

/** A request's body as JSON, at most {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, "the request body is not JSON");
  }
}

/** An approval's answer from the page: `{ decision: "approve" }` or `{ decision: "deny", reason }`. */
function decision(body: unknown): { decision: "approve" | "deny"; reason?: string } {
  const b = body as { decision?: unknown; reason?: unknown } | null;
  if (typeof b !== "object" || b === null || (b.decision !== "approve" && b.decision !== "deny")) {
    throw new HttpError(400, 'the body must be {"decision": "approve"} or {"decision": "deny", "reason": "..."}');
  }
  if (b.reason !== undefined && (typeof b.reason !== "string" || b.reason.length > MAX_REASON_CHARS)) {
    throw new HttpError(400, `reason must be text of at most ${MAX_REASON_CHARS} characters`);
  }
  return { decision: b.decision, ...(typeof b.reason === "string" ? { reason: b.reason } : {}) };
}
