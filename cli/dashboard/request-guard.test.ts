// The dashboard's request checks, one row per rule: the Host header names
// this server (DNS rebinding), the token is this run's, and a browser's POST
// comes from the dashboard's own origin.

import { describe, expect, it } from "vitest";
import { allowedHosts, checkApiRequest, checkHost, newToken, tokenMatches } from "./request-guard.js";

describe("the dashboard's request guard", () => {
  const loopback = allowedHosts("127.0.0.1", 7070);

  it.each([
    ["127.0.0.1:7070", null],
    ["localhost:7070", null],
    ["LOCALHOST:7070", null],
    ["[::1]:7070", null],
    ["127.0.0.1:7071", 421],
    ["127.0.0.1", 421],
    ["evil.example:7070", 421],
    ["attacker.example", 421],
    [undefined, 421],
  ] as const)("Host %s -> %s", (host, status) => {
    expect(checkHost(loopback, host)?.status ?? null).toBe(status);
  });

  it("accepts the address it was bound to", () => {
    expect(checkHost(allowedHosts("192.0.2.7", 80), "192.0.2.7:80")).toBeNull();
    expect(checkHost(allowedHosts("::1", 80), "[::1]:80")).toBeNull();
  });

  const token = newToken();
  const base = { method: "GET", host: "127.0.0.1:7070", origin: undefined, headerToken: token };

  it.each([
    ["the token in the header", {}, null],
    ["no token", { headerToken: undefined }, 403],
    ["a wrong token", { headerToken: newToken() }, 403],
    ["an empty token", { headerToken: "" }, 403],
    ["the token with a character missing", { headerToken: token.slice(1) }, 403],
    ["a POST from the dashboard's origin", { method: "POST", origin: "http://127.0.0.1:7070" }, null],
    ["a POST without an Origin (not a browser)", { method: "POST" }, null],
    ["a POST from another origin", { method: "POST", origin: "http://evil.example" }, 403],
    ["a POST from another origin without the token", { method: "POST", headerToken: undefined, origin: "http://evil.example" }, 403],
    ["a POST from the same host on another port", { method: "POST", origin: "http://127.0.0.1:7071" }, 403],
  ] as const)("%s", (_name, change, status) => {
    expect(checkApiRequest(token, { ...base, ...change })?.status ?? null).toBe(status);
  });

  it("makes a new 64-hex-digit token each run and compares it whole", () => {
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(newToken()).not.toBe(token);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, token.toUpperCase())).toBe(false);
    expect(tokenMatches(token, `${token}0`)).toBe(false);
    expect(tokenMatches(token, null)).toBe(false);
  });
});
