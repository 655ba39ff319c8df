// A node's MCP connections: one per MCP tool set of the agent types it hosts
// (mcpTools), shared by every agent of those types, made when a request first
// needs the tools and closed when the node closes. It gains an entry per tool
// set, never per agent or request, and drops them all on close.

import type { Clock } from "../clock.js";
import { McpUnavailableError } from "../errors.js";
import { McpConnection } from "./mcp-connection.js";
import type { McpToolSet } from "./mcp-tools.js";

/** The MCP connections of one node. */
export class McpHub {
  private readonly connections = new Map<McpToolSet, McpConnection>();
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /** The connection of a tool set (not connected until its tools are asked for). */
  connection(set: McpToolSet): McpConnection {
    if (this.closed) throw new McpUnavailableError(set.mcp.label, "the node is closing");
    let c = this.connections.get(set);
    if (!c) {
      c = new McpConnection(set.mcp, this.clock);
      this.connections.set(set, c);
    }
    return c;
  }

  /** Close every connection (stdio servers' processes end). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
