// Who may talk to the dashboard. It can approve a model agent's tool calls,
// so every API request needs the run's token. agentctl prints the page's URL
// with the token in its fragment (`/#token=...`): a browser never sends a
// fragment to any server (not in the request, not in a Referer), so the page
// and its assets are served to anyone (they hold no secret) and the page's
// script reads the token from its address, keeps it in sessionStorage and
// sends it as the `x-troupe-token` header on every API call (a program does
// the same). No cookie: cookies ignore ports and would reach every other
// server on this host. Whoever reaches the port without the URL (another user
// of the machine, the network with --host 0.0.0.0) gets the page but no data.
// A request must name this server in its Host header (a page whose name was
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
 * The checks of an API request: the token in the `x-troupe-token` header, and
 * for a change (POST) an Origin, when a browser sends one, equal to the
 * dashboard's own.
 */
export function checkApiRequest(
  token: string,
  req: { method: string; host: string; origin: string | undefined; headerToken: string | undefined },
): Refusal | null {
  if (!tokenMatches(token, req.headerToken)) {
    return { status: 403, error: "missing or wrong dashboard token: open the URL agentctl dashboard printed (it ends with #token=...)" };
  }
  if (req.method !== "GET" && req.origin !== undefined && req.origin !== `http://${req.host}`) {
    return { status: 403, error: `cross-origin request from ${JSON.stringify(req.origin)} refused` };
  }
  return null;
}
