// The dashboard's detail view with a credential that may not read everything:
// an observer may read neither persisted state nor shared memory, and the
// detail of a running agent still comes, with its row, saying what could not
// be read (it used to fail as a whole, 403 in the page).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TroupeClient } from "../../actors/index.js";
import { Role } from "../../runtime/auth/roles.js";
import { defineAgent } from "../../runtime/define-agent.js";
import { startNode, type TroupeNode } from "../../runtime/node.js";
import { startSecureNatsServer, type SecureNatsServer } from "../../runtime/testing/secure-server.js";
import { agentDetail } from "./agent-detail.js";

const NS = "dash-observer";

describe("the detail view with an observer credential", () => {
  let secure: SecureNatsServer;
  let node: TroupeNode;
  let observer: TroupeClient;

  beforeAll(async () => {
    secure = await startSecureNatsServer({ namespaces: [NS] });
    node = await startNode({
      servers: secure.url,
      namespace: NS,
      name: "obs-node",
      credentials: await secure.creds({ role: Role.Node }),
      agents: [defineAgent({ type: "writer", receive: async (msg: { key: string }, ctx) => ctx.memory.put(msg.key, 1) })],
    });
    await node.spawn("writer", { key: "w1" });
    await node.ref("writer/w1").ask({ key: "k1" });
    observer = await connectClient({ servers: secure.url, namespace: NS, credentials: await secure.creds({ role: Role.Observer }) });
  });
  afterAll(async () => {
    await observer?.close();
    await node?.close();
    await secure?.dispose();
  });

  it("gives the running row and says why state and memory could not be read", async () => {
    const { agents } = await observer.listAll();
    const row = agents.find((a) => a.id === "writer/w1");
    expect(row).toBeDefined();
    const detail = await agentDetail(observer, "writer/w1", row);
    expect(detail.running?.id).toBe("writer/w1");
    expect(detail.state).toBeNull();
    expect(detail.stateProblem).toMatch(/permission|denied|not allowed/i);
    expect(detail.memory.keys).toEqual([]);
    expect(detail.memory.problem).toMatch(/permission|denied|not allowed/i);
  });
});
