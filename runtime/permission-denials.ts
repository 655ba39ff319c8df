// What a node does when an agent is refused by its type's `can` declaration:
// count it (node.stats().permissionDenied), publish a `permission_denied`
// event about the agent, and hand back the error the agent's code gets. And
// when a model agent refuses a tool call of its model (node.stats().toolRefusals,
// a `tool_refused` event).

import type { GrantOperation } from "./agent-grant.js";
import { PermissionDeniedError } from "./errors.js";
import { EventKind, type EventPublisher } from "./events.js";

/** The refusals of one node's agents. */
export class PermissionDenials {
  /** Operations refused so far. */
  count = 0;
  /** Tool calls model agents refused so far (unknown tool, bad arguments, a target outside `can`). */
  toolRefusals = 0;

  constructor(private readonly events: EventPublisher) {}

  /** Record that agent `type/key` was refused `operation` on `target`; returns the error to throw. */
  refuse(type: string, key: string, id: string, operation: GrantOperation, target: string): PermissionDeniedError {
    this.count++;
    this.events.publish(EventKind.PermissionDenied, type, key, { operation, target });
    return new PermissionDeniedError(operation, target, id, `not granted by the can declaration of agent type ${type}`);
  }

  /** Record that model agent `type/key` refused a tool call of its model (the model is told, not the agent's caller). */
  toolRefused(type: string, key: string, fields: { request: string; tool: string; refusal: string; error: string }): void {
    this.toolRefusals++;
    this.events.publish(EventKind.ToolRefused, type, key, fields);
  }
}
