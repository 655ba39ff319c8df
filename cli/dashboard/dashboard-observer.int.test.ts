// The dashboard with an observer credential on a secured server: the kept
// event history is refused to an observer, so every page that opens gets a
// `problem` frame saying so (the opening page itself, not only the others),
// and the refused read is made once, not again for each page open.

import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter } from "../../actors/builtins.js";
import { connectClient, type TroupeClient } from "../../runtime/client.js";
import { startNode, type TroupeNode } from "../../runtime/node.js";
import { Role } from "../../runtime/auth/roles.js";
import { startSecureNatsServer, type SecureNatsServer } from "../../runtime/testing/secure-server.js";
import { startDashboard, type Dashboard } from "./dashboard-server.js";

const SLOW_MS = 120_000;
const NS = "shop";

/** The frames a page gets up to and including its first snapshot-or-problem after the recent events. */
function openPage(d: Dashboard): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: d.port, path: "/api/events", headers: { "x-troupe-token": d.token } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (s: string) => {
        text += s;
        if (/event: events\n/.test(text) && /event: problem\ndata: .*\n\n/.test(text)) {
          req.destroy();
          resolve(text);
        }
      });
      res.on("end", () => reject(new Error(`the stream ended without a problem frame: ${text}`)));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the dashboard with an observer credential", { timeout: SLOW_MS }, () => {
  let secure: SecureNatsServer;
  let node: TroupeNode;
  let client: TroupeClient;
  let dash: Dashboard;
  let historyReads = 0;

  beforeAll(async () => {
    secure = await startSecureNatsServer({ namespaces: [NS] });
    node = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node }), namespace: NS, name: "n1", agents: [counter] });
    await node.spawn("counter", { key: "c1" });
    client = await connectClient({ servers: secure.url, credentials: await secure.creds({ role: Role.Observer }), namespace: NS, name: "dash-observer" });
    const events = client.events.bind(client);
    client.events = ((opts?: Parameters<typeof events>[0]) => {
      if (opts?.follow === false) historyReads++;
      return events(opts);
    }) as typeof client.events;
    dash = await startDashboard({ client });
  }, SLOW_MS);
  afterAll(async () => {
    await dash?.close();
    await client?.close();
    await node?.close();
    await secure?.dispose();
  });

  it("tells each opening page why there is no history, and reads it only once", async () => {
    for (let i = 0; i < 3; i++) {
      const text = await openPage(dash);
      const problem = JSON.parse(/event: problem\ndata: (.*)\n\n/.exec(text)![1]!) as { error: string };
      expect(problem.error).toMatch(/^no event history: .*admin credential/);
    }
    expect(historyReads).toBe(1);
  });
});
