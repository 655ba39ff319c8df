// A real nats-server on a random loopback port: it serves JetStream KV, survives a
// crash with its data (same port, same store), cleans up after itself, and a
// missing binary is reported with a way to get one.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { findNatsServer, NatsServerMissingError, startNatsServer, type NatsServer } from "./nats-server.js";
import { connectTo, reconnected } from "./connect.js";
import { useConnection, useNatsServer } from "./vitest.js";

const text = new TextEncoder();
const untext = new TextDecoder();

/** True when something accepts TCP connections on 127.0.0.1:port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function eventually(check: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe("startNatsServer", () => {
  const started: NatsServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.dispose()));
  });
  const start = async (opts?: Parameters<typeof startNatsServer>[0]) => {
    const s = await startNatsServer(opts);
    started.push(s);
    return s;
  };

  it("serves JetStream KV on a random loopback port, and keeps the data across kill and restart", async () => {
    const server = await start();
    expect(server.port).not.toBe(4222);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(existsSync(server.storeDir)).toBe(true);

    const nc = await connectTo(server.url);
    try {
      const kv = await new Kvm(nc).create("b");
      await kv.put("greeting", text.encode("hello"));
      expect(untext.decode((await kv.get("greeting"))?.value)).toBe("hello");

      const firstPid = server.pid;
      await server.kill();
      expect(await accepting(server.port)).toBe(false);

      await server.restart();
      expect(server.pid).not.toBe(firstPid);
      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);

      // The same client reconnects by itself and finds the bucket and value.
      await reconnected(nc);
      const after = await new Kvm(nc).open("b");
      const entry = await after.get("greeting");
      expect(untext.decode(entry?.value)).toBe("hello");
      expect(entry?.revision).toBe(1);
    } finally {
      await nc.close();
    }
  });

  it("keeps the data across a graceful stop and restart", async () => {
    const server = await start();
    let nc = await connectTo(server.url);
    await (await new Kvm(nc).create("b")).put("k", text.encode("v1"));
    await nc.close();

    await server.stop();
    expect(await accepting(server.port)).toBe(false);
    await server.restart();

    nc = await connectTo(server.url);
    try {
      const kv = await new Kvm(nc).open("b");
      expect(untext.decode((await kv.get("k"))?.value)).toBe("v1");
    } finally {
      await nc.close();
    }
  });

  it("dispose stops the server and removes its temporary store; a second dispose is harmless", async () => {
    const server = await start();
    const nc = await connectTo(server.url);
    await (await new Kvm(nc).create("b")).put("k", text.encode("v"));
    await nc.close();
    expect(existsSync(join(server.storeDir, "jetstream"))).toBe(true);

    await server.dispose();
    expect(existsSync(server.storeDir)).toBe(false);
    expect(await accepting(server.port)).toBe(false);
    await server.dispose();
    await expect(server.restart()).rejects.toThrow(/disposed/);
  });

  it("uses a given store directory and leaves it in place", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-store-test-"));
    try {
      const server = await start({ storeDir: dir, serverName: "given-store" });
      expect(server.storeDir).toBe(dir);
      const nc = await connectTo(server.url);
      await (await new Kvm(nc).create("b")).put("k", text.encode("v"));
      expect(nc.info?.server_name).toBe("given-store");
      await nc.close();
      await server.dispose();
      expect(existsSync(join(dir, "jetstream"))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("opens the monitoring endpoint on request", async () => {
    const server = await start({ monitor: true });
    expect(server.monitorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { port: number; host: string };
    expect(varz.port).toBe(server.port);
    expect(varz.host).toBe("127.0.0.1");

    const plain = await start();
    expect(plain.monitorUrl).toBeUndefined();
  });

  it("rejects with the server's own words when it cannot start", async () => {
    const first = await start();
    await expect(startNatsServer({ port: first.port })).rejects.toThrow(/exited during startup[\s\S]*address already in use/);
  });

  it("kills its servers when the owning process exits", async () => {
    const moduleUrl = new URL("./nats-server.ts", import.meta.url).href;
    const script = `import { startNatsServer } from ${JSON.stringify(moduleUrl)};
      const s = await startNatsServer();
      console.log(JSON.stringify({ port: s.port, storeDir: s.storeDir }));
      process.exit(0);`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        { cwd: fileURLToPath(new URL("..", import.meta.url)) },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const { port, storeDir } = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { port: number; storeDir: string };
    expect(await eventually(async () => !(await accepting(port)))).toBe(true);
    expect(existsSync(storeDir)).toBe(false);
  });
});

describe("a missing nats-server", () => {
  const saved = process.env.NATS_SERVER_BIN;
  afterEach(() => {
    if (saved === undefined) delete process.env.NATS_SERVER_BIN;
    else process.env.NATS_SERVER_BIN = saved;
  });

  it("is reported as NatsServerMissingError saying how to install one", async () => {
    process.env.NATS_SERVER_BIN = "/nonexistent/bin/nats-server";
    let caught: unknown;
    try {
      findNatsServer();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NatsServerMissingError);
    const err = caught as NatsServerMissingError;
    expect(err.code).toBe("NATS_SERVER_MISSING");
    expect(err.name).toBe("NatsServerMissingError");
    expect(err.message).toContain("/nonexistent/bin/nats-server");
    expect(err.message).toContain("npm run nats-server");
    expect(err.message).toContain("2.10");

    await expect(startNatsServer()).rejects.toBeInstanceOf(NatsServerMissingError);
  });

  it("is not reported when a good binary is named", () => {
    process.env.NATS_SERVER_BIN = findNatsServer();
    expect(findNatsServer()).toBe(process.env.NATS_SERVER_BIN);
  });
});

describe("useNatsServer and useConnection", () => {
  const nats = useNatsServer();
  const conn = useConnection(nats);

  it("give each file a live server and a connection that follows it through a crash", async () => {
    const kv = await new Kvm(conn.nc).create("b");
    await kv.put("k", text.encode("before"));
    await nats.server.kill();
    await nats.server.restart();
    await reconnected(conn.nc);
    await kv.put("k", text.encode("after"));
    const entry = await kv.get("k");
    expect(untext.decode(entry?.value)).toBe("after");
    expect(entry?.revision).toBe(2);
    expect(conn.nc.isClosed()).toBe(false);
  });
});
