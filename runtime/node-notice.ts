// What a node tells the person who runs it about its place in the cluster:
// it adopted an agent of a node that is gone, it lost the server, it is back.
// `node.onNotice(handler)` hears them (agentctl node start prints one line
// each); the runtime itself prints nothing.

/** One notice of a node (`node.onNotice`). */
export type NodeNotice =
  /** The node started `agent`, whose node `from` is gone (failover). */
  | { kind: "adopted"; agent: string; from: string }
  /** The connection to `server` was lost; the node keeps trying to reconnect. */
  | { kind: "disconnected"; server: string }
  /** The node is connected again, to `server`, and checks its agents' claims. */
  | { kind: "reconnected"; server: string };

/** The handlers of a node's notices. A throwing handler is ignored. */
export class NoticeBoard {
  private readonly handlers = new Set<(notice: NodeNotice) => void>();

  /** Add a handler; returns a function that removes it. */
  on(handler: (notice: NodeNotice) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Tell every handler. */
  emit(notice: NodeNotice): void {
    for (const h of this.handlers) {
      try {
        h(notice);
      } catch {
        // a handler's failure is its own
      }
    }
  }
}
