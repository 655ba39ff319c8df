// Who may talk to the dashboard. It can approve a model agent's tool calls,
// so the page and every API request need the run's token: agentctl prints the
// page's URL with it (`/?token=...`, as Jupyter does), the server turns it
// into an HttpOnly, SameSite=Strict cookie and the page's requests carry that
// (a program may send the `x-troupe-token` header instead). Whoever reaches
// the port without the URL (another user of the machine, the network with
// --host 0.0.0.0) gets neither the page nor the API. A request must name this
// server in its Host header (a page whose name was rebound to 127.0.0.1 is
// refused: DNS rebinding), a cookie counts only from the dashboard's own
// origin (not from another port of the same host: cookies ignore ports), and
// a browser's POST must come from the dashboard's own origin.

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

/** The name of the cookie that holds the token of the dashboard on `port` (cookies ignore ports: one name each). */
export function cookieName(port: number): string {
  return `troupe-dashboard-${port}`;
}

/** The `Set-Cookie` value that keeps `token` for the page. */
export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The token the dashboard on `port` set in a request's Cookie header, if any. */
export function cookieToken(header: string | undefined, port: number): string | undefined {
  const name = `${cookieName(port)}=`;
  for (const part of (header ?? "").split(";")) {
    const p = part.trim();
    if (p.startsWith(name)) return p.slice(name.length);
  }
  return undefined;
}

/**
 * Whether a request for the page may have it: its cookie holds the token
 * (`Sec-Fetch-Site`, when sent, is not another site's) — the token query
 * parameter is checked apart, by the server, which then sets the cookie.
 */
export function pageAllowed(token: string, req: { cookieToken: string | undefined; fetchSite: string | undefined }): boolean {
  return tokenMatches(token, req.cookieToken) && (req.fetchSite === undefined || FETCH_SITES_OK.has(req.fetchSite));
}

/** `Sec-Fetch-Site` values a cookie counts from: the dashboard's own pages, or a person typing the URL. */
const FETCH_SITES_OK = new Set(["same-origin", "none"]);

/**
 * The checks of an API request: the token (from the `x-troupe-token` header,
 * or, from a page, its cookie, when the browser says the request comes from
 * the dashboard's own origin), and for a change (POST) an Origin, when a
 * browser sends one, equal to the dashboard's own.
 */
export function checkApiRequest(
  token: string,
  req: { method: string; host: string; origin: string | undefined; fetchSite: string | undefined; headerToken: string | undefined; cookieToken: string | undefined },
): Refusal | null {
  const byHeader = req.headerToken !== undefined && tokenMatches(token, req.headerToken);
  const byCookie = req.headerToken === undefined && pageAllowed(token, req);
  if (!byHeader && !byCookie) {
    return { status: 403, error: "missing or wrong dashboard token: open the URL agentctl dashboard printed (it ends in ?token=...)" };
  }
  if (req.method !== "GET" && req.origin !== undefined && req.origin !== `http://${req.host}`) {
    return { status: 403, error: `cross-origin request from ${JSON.stringify(req.origin)} refused` };
  }
  return null;
}
