// What the model is told of an MCP tools/call result: structured content
// when there is some, else the content blocks as text (text as it is; images,
// audio and resources named, not inlined, so a result stays text the model
// can read and the journal can hold). An `isError` result is a tool error.

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { McpToolError } from "../errors.js";

/**
 * What the model is told of a tools/call result: its `structuredContent`
 * when it has one, else its content as text (text blocks joined; images,
 * audio and resources named, not inlined). An `isError` result is thrown as
 * McpToolError with that text.
 */
export function mcpResultOf(server: string, tool: string, result: CallToolResult): unknown {
  const r = result as CallToolResult & { toolResult?: unknown };
  const text = Array.isArray(r.content) ? r.content.map(blockText).join("\n") : "";
  if (r.isError === true) throw new McpToolError(server, tool, text.trim() || `MCP tool ${tool} failed and said nothing more`);
  if (r.structuredContent !== undefined && r.structuredContent !== null) return r.structuredContent;
  if (!Array.isArray(r.content) && r.toolResult !== undefined) return r.toolResult; // protocol 2024-10-07
  return text;
}

function blockText(block: CallToolResult["content"][number]): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "image":
    case "audio":
      return `[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes]`;
    case "resource":
      return "text" in block.resource && typeof block.resource.text === "string" ? block.resource.text : `[resource ${block.resource.uri}]`;
    case "resource_link":
      return `[resource ${block.uri}${block.description ? `: ${block.description}` : ""}]`;
    default:
      return `[${String((block as { type?: unknown }).type)} content]`;
  }
}
