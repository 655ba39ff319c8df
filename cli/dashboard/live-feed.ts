// The dashboard's live side: the namespace's events as they come, and a
// snapshot of every agent and supervision tree after each burst of events (and
// at least every second), pushed to each open page over Server-Sent Events.
// Snapshots are taken only while a page is open; the latest is kept for the
// API. One snapshot is in flight at a time: events that arrive meanwhile ask
// for one more when it ends. A page that opens first gets the recent history
// from the namespace's events stream (`client.events({ since })`), merged with
// what the dashboard saw itself; without a stream, only the latter. One live
// subscription serves every page. A snapshot that shows nothing new (the
// same agents, counters, nodes and trees; only uptimes and heartbeats moved)
// is not sent again: the pages get a `tick` with its time, so an idle page
// costs a few bytes a second however many agents there are. Events come
// checked (`client.events()`, runtime/event-feed.ts): a message that is no
// well-formed event, or one over MAX_EVENT_CHARS, is skipped and counted
// (`skippedEvents` in the snapshot), never kept or sent to a page.

import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { NamespaceNotFoundError, PermissionDeniedError, type AgentInfo, type NodeInfo, type NodeTree, type TroupeClient, type TroupeEvent } from "../../actors/index.js";

/** Every agent, node and supervision tree at one moment. */
export interface Snapshot {
  /** When it was taken (ms since the epoch). */
  at: number;
  agents: AgentInfo[];
  nodes: NodeInfo[];
  /** Nodes that did not answer. */
  unreachable: string[];
  trees: NodeTree[];
  /** Messages on the event subjects skipped since the dashboard started: not well-formed events, or too large. */
  skippedEvents: number;
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
  /** How far back a page's history reaches when it opens; default 10 minutes. */
  historyMs?: number;
  /** How long reading that history may take before the page gets what was read; default 2000 ms. */
  historyTimeoutMs?: number;
  /** The most pages open at once; default 32. */
  maxStreams?: number;
}

/** A page that stopped reading falls behind by this many bytes before it is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;
/** The largest event (as JSON) kept and sent to the pages; a larger one is skipped and counted. */
export const MAX_EVENT_CHARS = 16 * 1024;

/** Events and snapshots, pushed to every open page. */
export class LiveFeed {
  private readonly streams = new Set<ServerResponse>();
  private readonly recent: TroupeEvent[] = [];
  private latest: Snapshot | undefined;
  /** The revision of the latest snapshot sent to the pages (see {@link revisionOf}). */
  private sentRevision: string | undefined;
  private inFlight: Promise<Snapshot | undefined> | undefined;
  private again = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private readonly keepalive: NodeJS.Timeout;
  /** The live read of events; stopped on close. */
  private live: { stop(): void } | undefined;
  /** Settles once the live read listens (or could not start). */
  readonly ready: Promise<void>;
  private skipped = 0;
  private closed = false;
  /**
   * Why the namespace's event history cannot be read (no such namespace, or
   * this credential may not read it: an observer), learnt from the first read;
   * later pages skip the read, so no refused request is made per page open.
   */
  private noHistory: string | undefined;
  /** Pages whose history is being read. */
  private opening = 0;
  private readonly o: Required<LiveFeedOptions>;

  constructor(
    private readonly client: TroupeClient,
    options: LiveFeedOptions = {},
  ) {
    this.o = { intervalMs: 1000, settleMs: 25, nodeTimeoutMs: 1000, recentEvents: 200, historyMs: 10 * 60_000, historyTimeoutMs: 2000, maxStreams: 32, ...options };
    this.ready = this.follow();
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
    return this.streams.size + this.opening >= this.o.maxStreams;
  }

  /**
   * Start streaming to `res`: the recent events (the namespace's history and
   * what this dashboard saw, without duplicates), the latest snapshot, then
   * everything new.
   */
  async open(res: ServerResponse): Promise<void> {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 1000\n\n");
    this.opening++;
    let history: { events: TroupeEvent[]; problem?: string };
    try {
      history = await this.history();
    } finally {
      this.opening--;
    }
    if (this.closed || res.destroyed) return void res.end();
    // Events that came while the history was read are in `recent`: the merge
    // and the join to the live stream happen in one turn, so none is missed.
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
    res.write(frame("events", mergeEvents(history.events, this.recent, this.o.recentEvents)));
    if (history.problem !== undefined) res.write(frame("problem", { error: history.problem }));
    if (this.latest) res.write(frame("snapshot", this.latest));
    void this.refresh();
  }

  /** Stop: close every stream and stop listening to events. */
  close(): void {
    this.closed = true;
    clearInterval(this.ticker);
    clearInterval(this.keepalive);
    clearTimeout(this.settleTimer);
    this.live?.stop();
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  /**
   * The namespace's events of the last `historyMs`; none when it keeps no
   * events stream or the read fails, with, for the opening page, why (once
   * refused for good, the read is not tried again: see {@link noHistory}).
   */
  private async history(): Promise<{ events: TroupeEvent[]; problem?: string }> {
    const kept: TroupeEvent[] = [];
    if (this.noHistory !== undefined) return { events: kept, ...(this.noHistory ? { problem: this.noHistory } : {}) };
    let feed;
    try {
      feed = await this.client.events({ since: this.o.historyMs, follow: false });
    } catch (err) {
      if (err instanceof NamespaceNotFoundError) {
        this.noHistory = "";
        return { events: kept };
      }
      const problem = `no event history: ${errorMessage(err)}`;
      if (err instanceof PermissionDeniedError) this.noHistory = problem;
      return { events: kept, problem };
    }
    const timer = setTimeout(() => feed.stop(), this.o.historyTimeoutMs);
    try {
      for await (const e of feed) {
        if (!fits(e)) continue;
        kept.push(e);
        if (kept.length > 2 * this.o.recentEvents) kept.splice(0, kept.length - this.o.recentEvents);
      }
    } catch {
      // what was read is kept
    } finally {
      clearTimeout(timer);
      feed.stop();
    }
    return { events: kept };
  }

  /**
   * Read live events, checked, for as long as the dashboard runs; resolves once the read
   * listens. Skipped messages are counted and shown in the next snapshot.
   */
  private async follow(): Promise<void> {
    let feed;
    try {
      feed = await this.client.events({ onSkip: () => this.skipped++ });
    } catch (err) {
      this.send(frame("problem", { error: `no live events: ${errorMessage(err)}` }));
      return;
    }
    if (this.closed) return feed.stop();
    this.live = feed;
    void (async () => {
      try {
        for await (const e of feed) {
          if (fits(e)) this.onEvent(e);
          else this.skipped++;
        }
      } catch (err) {
        if (!this.closed) this.send(frame("problem", { error: `live events ended: ${errorMessage(err)}` }));
      }
    })();
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
      const snap: Snapshot = { at: Date.now(), agents: list.agents, nodes: list.nodes, unreachable: list.unreachable, trees, skippedEvents: this.skipped };
      this.latest = snap;
      const revision = revisionOf(snap);
      if (revision === this.sentRevision) {
        this.send(frame("tick", { at: snap.at }));
      } else {
        this.sentRevision = revision;
        this.send(frame("snapshot", snap));
      }
      return snap;
    } catch (err) {
      this.send(frame("problem", { error: errorMessage(err) }));
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

/**
 * The latest `max` of two lists of events, oldest first, each event once (the
 * same event read from the stream and seen live encodes alike).
 */
export function mergeEvents(a: readonly TroupeEvent[], b: readonly TroupeEvent[], max: number): TroupeEvent[] {
  const seen = new Set<string>();
  const all: TroupeEvent[] = [];
  for (const e of [...a, ...b]) {
    const key = JSON.stringify(e);
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(e);
  }
  all.sort((x, y) => x.at - y.at);
  return all.slice(-max);
}

/**
 * What a snapshot shows, as a short hash: everything but its time, the agents'
 * uptimes and the nodes' heartbeats, which move on their own (a page counts
 * uptimes on from the snapshot's time).
 */
export function revisionOf(snap: Snapshot): string {
  const agents = snap.agents.map(({ uptimeMs: _uptime, ...rest }) => rest);
  const nodes = snap.nodes.map(({ lastSeen: _seen, revision: _revision, ...rest }) => rest);
  return createHash("sha1")
    .update(JSON.stringify([agents, nodes, snap.unreachable, snap.trees, snap.skippedEvents]))
    .digest("base64");
}

/** Whether an event is small enough to keep and send (see {@link MAX_EVENT_CHARS}). */
function fits(e: TroupeEvent): boolean {
  return JSON.stringify(e).length <= MAX_EVENT_CHARS;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One Server-Sent Events message. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
