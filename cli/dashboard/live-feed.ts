// The dashboard's live side: the namespace's events as they come, and a
// snapshot of every agent and supervision tree after each burst of events (and
// at least every second), pushed to each open page over Server-Sent Events.
// Snapshots are taken only while a page is open; the latest is kept for the
// API. One snapshot is in flight at a time: events that arrive meanwhile ask
// for one more when it ends.

import type { ServerResponse } from "node:http";
import type { AgentInfo, NodeInfo, NodeTree, TroupeClient, TroupeEvent } from "../../actors/index.js";

/** Every agent, node and supervision tree at one moment. */
export interface Snapshot {
  /** When it was taken (ms since the epoch). */
  at: number;
  agents: AgentInfo[];
  nodes: NodeInfo[];
  /** Nodes that did not answer. */
  unreachable: string[];
  trees: NodeTree[];
}

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** The longest time between two snapshots while a page is open; default 1000 ms. */
  intervalMs?: number;
  /** How long a snapshot waits after an event for more to come; default 25 ms. */
  settleMs?: number;
  /** How long each node has to answer a snapshot's list and tree requests; default 1000 ms. */
  nodeTimeoutMs?: number;
  /** How many recent events a page gets when it opens; default 200. */
  recentEvents?: number;
  /** The most pages open at once; default 32. */
  maxStreams?: number;
}

/** A page that stopped reading falls behind by this many bytes before it is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

/** Events and snapshots, pushed to every open page. */
export class LiveFeed {
  private readonly streams = new Set<ServerResponse>();
  private readonly recent: TroupeEvent[] = [];
  private latest: Snapshot | undefined;
  private inFlight: Promise<Snapshot | undefined> | undefined;
  private again = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private readonly keepalive: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly o: Required<LiveFeedOptions>;

  constructor(
    private readonly client: TroupeClient,
    options: LiveFeedOptions = {},
  ) {
    this.o = { intervalMs: 1000, settleMs: 25, nodeTimeoutMs: 1000, recentEvents: 200, maxStreams: 32, ...options };
    this.unsubscribe = client.onEvent((e) => this.onEvent(e));
    this.ticker = setInterval(() => {
      if (this.streams.size > 0) void this.refresh();
    }, this.o.intervalMs);
    this.keepalive = setInterval(() => this.send(": keepalive\n\n"), KEEPALIVE_MS);
    this.ticker.unref();
    this.keepalive.unref();
  }

  /** The latest snapshot, taken now when there is none or it is older than the interval. */
  async snapshot(): Promise<Snapshot | undefined> {
    if (this.latest && Date.now() - this.latest.at < this.o.intervalMs) return this.latest;
    return this.refresh();
  }

  /** The latest snapshot known, without asking the nodes. */
  get last(): Snapshot | undefined {
    return this.latest;
  }

  /** Whether another page may open a stream. */
  get full(): boolean {
    return this.streams.size >= this.o.maxStreams;
  }

  /** Start streaming to `res`: the recent events, the latest snapshot, then everything new. */
  open(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 1000\n\n");
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
    res.write(frame("events", this.recent));
    if (this.latest) res.write(frame("snapshot", this.latest));
    void this.refresh();
  }

  /** Stop: close every stream and stop listening to events. */
  close(): void {
    this.closed = true;
    clearInterval(this.ticker);
    clearInterval(this.keepalive);
    clearTimeout(this.settleTimer);
    this.unsubscribe();
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private onEvent(e: TroupeEvent): void {
    this.recent.push(e);
    if (this.recent.length > this.o.recentEvents) this.recent.splice(0, this.recent.length - this.o.recentEvents);
    this.send(frame("event", e));
    if (this.streams.size > 0 && this.settleTimer === undefined) {
      this.settleTimer = setTimeout(() => {
        this.settleTimer = undefined;
        void this.refresh();
      }, this.o.settleMs);
    }
  }

  /** Take a snapshot and push it; while one is in flight, one more follows it. */
  private refresh(): Promise<Snapshot | undefined> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const run = this.take().finally(() => {
      this.inFlight = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.refresh();
      }
    });
    this.inFlight = run;
    return run;
  }

  private async take(): Promise<Snapshot | undefined> {
    if (this.closed || this.client.closed) return undefined;
    try {
      const [list, trees] = await Promise.all([this.client.listAll(this.o.nodeTimeoutMs), this.client.treeAll(this.o.nodeTimeoutMs)]);
      const snap: Snapshot = { at: Date.now(), agents: list.agents, nodes: list.nodes, unreachable: list.unreachable, trees };
      this.latest = snap;
      this.send(frame("snapshot", snap));
      return snap;
    } catch (err) {
      this.send(frame("problem", { error: err instanceof Error ? err.message : String(err) }));
      return this.latest;
    }
  }

  private send(text: string): void {
    for (const res of this.streams) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        this.streams.delete(res);
        continue;
      }
      res.write(text);
    }
  }
}

/** One Server-Sent Events message. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
