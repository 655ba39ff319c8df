// The NATS agent protocol under credentials: a node narrowed to its types
// serves it with no permission error; a client credential discovers, prompts
// and answers a query of the types it reaches, and is refused another type's
// prompt subject; an observer discovers and may subscribe to heartbeats, and cannot prompt.

import { readFileSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { credsAuthenticator, type PermissionViolationError } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFrom } from "../auth/credentials.js";
import { Role } from "../auth/roles.js";
import { inboxPrefixOf } from "../connection.js";
import { defineAgent } from "../define-agent.js";
import { tool } from "../model/tool.js";
import { startNode, type TroupeNode } from "../node.js";
import { discover, prompt, responseText, type ServiceInfo } from "../testing/agent-protocol-caller.js";
import { watchViolations } from "../testing/hostile/attacker.js";
import { startModelServer, type ModelServer } from "../testing/model-server.js";
import { lastUserText, toolResults, type ChatRequest, type ModelStep } from "../testing/model-script.js";
import { startSecureNatsServer, type SecureNatsServer } from "../testing/secure-server.js";
import { waitFor } from "../testing/wait.js";

const NS = "apauth";

const helper = defineAgent({ type: "helper", persist: false, expose: { protocol: "nats-agents" }, receive: (m: unknown) => `helped with ${String(m)}` });
const other = defineAgent({ type: "other", persist: false, expose: { protocol: "nats-agents" }, receive: () => "other" });

function respond(req: ChatRequest): ModelStep {
  if (toolResults(req).length > 0) return { text: "wiped" };
  return lastUserText(req) === "wipe" ? { toolCalls: [{ name: "wipe", args: {} }] } : { text: "hm" };
}
const wipe = tool({ description: "Wipe", parameters: { type: "object", properties: {} }, approval: true, execute: () => "ok" });

async function rawConnect(url: string, creds: string): Promise<{ nc: NatsConnection; violations: PermissionViolationError[] }> {
  const bytes = readFileSync(creds);
  const c = await credentialsFrom(bytes, creds);
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(bytes), inboxPrefix: inboxPrefixOf(c), maxReconnectAttempts: 0 });
  return { nc, violations: watchViolations(nc) };
}

describe("the NATS agent protocol under credentials", () => {
  let secure: SecureNatsServer;
  let model: ModelServer;
  let node: TroupeNode;
  let nodeViolations: PermissionViolationError[];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    secure = await startSecureNatsServer({ namespaces: [NS] });
    model = await startModelServer((req) => respond(req));
    const assistant = defineAgent({ type: "assistant", model: { baseURL: model.url, model: "scripted", apiKey: "t" }, tools: { wipe }, expose: { protocol: "nats-agents" } } as never);
    // Another node hosts `other` with a full node credential.
    const full = await startNode({ servers: secure.url, credentials: await secure.creds({ role: Role.Node }), namespace: NS, name: "full", agents: [other] });
    closers.push(() => full.close());
    await full.spawn("other", { key: "o1" });
    node = await startNode({
      servers: secure.url,
      credentials: await secure.creds({ role: Role.Node, types: ["helper", "assistant"] }),
      namespace: NS,
      name: "narrow",
      agents: [helper, assistant],
    });
    closers.push(() => node.close());
    nodeViolations = watchViolations(node.connection);
    await node.spawn("helper", { key: "h1" });
  }, 60_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    await model?.close();
    await secure?.dispose();
  });

  it("lets a client credential discover, prompt and answer a query of its types, and refuses another type's prompt", async () => {
    const { nc, violations } = await rawConnect(secure.url, await secure.creds({ role: Role.Client, types: ["helper", "assistant"] }));
    closers.push(() => nc.close());
    const infos = await discover<ServiceInfo>(nc, "$SRV.INFO.agents", 3);
    expect(infos.map((i) => `${i.metadata.agent}/${i.metadata.session}`).sort()).toEqual(["assistant/default", "helper/h1", "other/o1"]);
    const helperInfo = infos.find((i) => i.metadata.agent === "helper")!;
    const statusReply = JSON.parse(new TextDecoder().decode((await nc.request(helperInfo.endpoints[1]!.subject, "")).data));
    expect(statusReply.instance_id).toBe(helperInfo.id);
    expect(responseText(await prompt(nc, helperInfo.endpoints[0]!.subject, "the forms"))).toBe("helped with the forms");
    const wiped = await prompt(nc, `agents.prompt.assistant.${NS}.w1`, "wipe", () => "yes");
    expect(responseText(wiped)).toBe("wiped");
    expect(violations).toEqual([]);
    // `other` is not among its types: the server refuses the publish.
    nc.publish(`agents.prompt.other.${NS}.o1`, "hi");
    await waitFor(() => violations.find((v) => v.operation === "publish" && v.subject === `agents.prompt.other.${NS}.o1`), "the server to refuse the prompt to other/o1");
    expect(nodeViolations).toEqual([]);
  });

  it("lets an observer discover and subscribe to heartbeats, and not prompt", async () => {
    const { nc, violations } = await rawConnect(secure.url, await secure.creds({ role: Role.Observer }));
    closers.push(() => nc.close());
    nc.subscribe("agents.hb.*.*.*");
    const pings = await discover<{ id: string }>(nc, "$SRV.PING.agents", 3);
    expect(pings).toHaveLength(3);
    nc.publish(`agents.prompt.helper.${NS}.h1`, "hi");
    await waitFor(() => violations.find((v) => v.operation === "publish" && v.subject === `agents.prompt.helper.${NS}.h1`), "the server to refuse the observer's prompt");
    expect(violations.filter((v) => v.operation === "subscription")).toEqual([]);
  });
});
