// Who may talk to the dashboard. It can approve a model agent's tool calls,
// so every API request must carry the run's token (the page has it), a
// request must name this server in its Host header (a page whose name was
// rebound to 127.0.0.1 is refused: DNS rebinding), and a browser's POST must
// come from the dashboard's own origin.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { hostname, networkInterfaces } from "node:os";

/** Why a request was refused, with the HTTP status it gets. */
export interface Refusal {
  status: 403 | 421;
  error: string;
}

/** A fresh token for one run of the dashboard (64 hex characters). */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

/** Whether `given` is `token`, in constant time. */
export function tokenMatches(token: string, given: string | undefined | null): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(token);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** `host` as it appears in a Host header (an IPv6 address in brackets). */
function hostToken(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/**
 * The Host header values a request may carry when the server listens on
 * `host`:`port`: the loopback names, the bound address, and, when bound to
 * every interface, this machine's name and addresses.
 */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  if (WILDCARDS.has(host)) {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(hostToken(a.address.toLowerCase()));
  } else {
    names.add(hostToken(host.toLowerCase()));
  }
  return new Set([...names].map((n) => `${n}:${port}`));
}

/** The Host check: a request that names another server is refused (421 Misdirected Request). */
export function checkHost(allowed: ReadonlySet<string>, hostHeader: string | undefined): Refusal | null {
  if (hostHeader !== undefined && allowed.has(hostHeader.toLowerCase())) return null;
  return { status: 421, error: `this dashboard does not answer for host ${JSON.stringify(hostHeader ?? "")}` };
}

/**
 * The checks of an API request: the token (from the `x-troupe-token` header,
 * or for the event stream, which a browser opens without headers, the
 * `token` query parameter), and for a change (POST) an Origin, when a
 * browser sends one, equal to the dashboard's own.
 */
export function checkApiRequest(
  token: string,
  req: { method: string; host: string; origin: string | undefined; headerToken: string | undefined; queryToken: string | null },
): Refusal | null {
  const given = req.headerToken ?? (req.method === "GET" ? req.queryToken : null);
  if (!tokenMatches(token, given)) return { status: 403, error: "missing or wrong dashboard token: reload the page" };
  if (req.method !== "GET" && req.origin !== undefined && req.origin !== `http://${req.host}`) {
    return { status: 403, error: `cross-origin request from ${JSON.stringify(req.origin)} refused` };
  }
  return null;
}
