// The built-in agent loop of a model agent (defineAgent with `model`): a
// prompt opens a request; the model is called with the conversation and the
// tools; the tool calls it asks for are checked and run; their results go back
// to the model; and so on until it answers without tool calls, or a budget, a
// model error or a person stops it.
//
// Durable, step by step: each model answer and each tool result is committed
// to the agent's state (journal.ts) before the loop moves on, and a tool call
// is journaled as started before it runs. An activation that starts from a
// journal with an open request (after a crash, on another node) resumes it:
// it tells itself `{ resume }`, and the loop goes on from where the journal
// stops, calling the model only for what has no answer and running again only
// a tool call that was started and never finished (same idempotency key).
//
// A request may outlive the message that opened it: a tool call that needs
// approval parks it (the lifecycle's `awaitingApproval`) and the receive
// returns, so the approve or deny can reach the mailbox; the loop goes on in
// that message's receive, and the original asker, whose reply subject is in
// the journal, gets the answer (and the chunks) from there. While a request
// runs or waits, its asker gets a keep-alive chunk every `keepAliveMs`, so
// neither an ask nor a stream times out while the model thinks or a person
// decides; if the agent dies, they stop, and the caller's inactivity timeout
// says so.

import { ANSWERED_LATER, type Behavior } from "../behavior-contract.js";
import type { AgentType } from "../define-agent.js";
import type { Chunk } from "../chunk.js";
import type { TimerHandle } from "../clock.js";
import { randomUUID } from "node:crypto";
import { encodeValue } from "../codec.js";
import { nextMessageId } from "../envelope.js";
import {
  ApprovalNotFoundError,
  BudgetExceededError,
  ConversationBusyError,
  errorText,
  InvalidMessageError,
  McpUnavailableError,
  toWireError,
} from "../errors.js";
import { EventKind } from "../events.js";
import type { AnswerChannel, HostContext } from "../host-context.js";
import { addSpent, budgetExceeded, type Spent } from "./budget.js";
import { toolSpan } from "./genai-span.js";
import {
  fitJournal,
  isJournal,
  keepOutcome,
  logEvent,
  newJournal,
  nextStep,
  openRequest,
  outcomeOf,
  type Journal,
  type ModelReply,
  type OpenRequest,
  toolCallIds,
  type RequestChannel,
} from "./journal.js";
import { ModelClient, type ModelMessage, type ModelOptions, type ModelToolCall, type ModelTurn } from "./model-client.js";
import { ModelError, ModelErrorKind } from "./model-error.js";
import { requestLimits, type ModelAgentConfig } from "./model-config.js";
import type { ModelInput } from "./model-input.js";
import { toolCallKey, type ToolContext } from "./tool.js";
import { ToolRefusal, type Toolbox } from "./toolbox.js";

/** The behaviour of one activation of a model agent. */
export class ModelBehavior implements Behavior {
  private journal: Journal = newJournal();
  /** The journal changed since the last commit. */
  private dirty = false;
  private client: ModelClient | undefined;
  private ctx: HostContext | undefined;
  private keepAlive: TimerHandle | undefined;
  private approvalTimer: TimerHandle | undefined;
  private stopped = false;
  /** The agent's tools, with its MCP servers' once listed (set at the start of each run). */
  private toolbox: Toolbox;

  constructor(
    private readonly def: AgentType,
    private readonly config: ModelAgentConfig<ModelOptions>,
  ) {
    this.toolbox = config.toolbox;
  }

  start(ctx: HostContext, persisted: { found: boolean; value?: unknown }): void {
    if (persisted.found && !isJournal(persisted.value)) {
      throw new InvalidMessageError(`the stored state of ${ctx.id} is not a model agent's conversation (of journal version 1)`);
    }
    this.journal = persisted.found ? (persisted.value as Journal) : newJournal();
    this.ctx = ctx;
    this.client = new ModelClient(this.config.model, ctx.context.clock);
    ctx.sourceState(() => this.journal);
    const open = this.journal.request;
    // Go on with what a crash interrupted, as soon as the agent takes messages (an ask sent again with its id joins it).
    if (open) void ctx.self.tell({ resume: open.id }).catch(() => {});
  }

  handle(msg: unknown, ctx: HostContext): unknown {
    const input = msg as ModelInput;
    if ("resume" in input) return this.resume(input.resume, ctx);
    if ("approval" in input) return this.decide(input.approval, input.decision, input.reason, ctx);
    return this.prompt(input.prompt, ctx);
  }

  takeChange(): boolean {
    const changed = this.dirty;
    this.dirty = false;
    return changed;
  }

  persistable(): unknown {
    return this.journal;
  }

  stop(): void {
    this.stopped = true;
    this.stopKeepAlive();
    if (this.approvalTimer !== undefined) this.ctx?.context.clock.clearTimeout(this.approvalTimer);
    this.approvalTimer = undefined;
  }

  // ---- messages -------------------------------------------------------------

  private async prompt(prompt: string, ctx: HostContext): Promise<typeof ANSWERED_LATER> {
    const j = this.journal;
    const id = ctx.messageId;
    const channel = channelOf(ctx.answering);
    const done = outcomeOf(j, id);
    if (done) {
      // Sent again after it finished: its outcome, not a second run.
      if (channel) ctx.answerLater(ctx.answering!, done.value ?? null, done.error ?? null);
      return ANSWERED_LATER;
    }
    const open = j.request;
    if (open && open.id === id) {
      // Sent again while it runs or waits (its first asker gave up, or the agent restarted): this asker takes over.
      return this.rejoin(open, channel, ctx);
    }
    if (open?.approval) return this.busy(open.approval.id, ctx);
    // One the journal left open (its resume has not come yet): finish it first, for its own asker.
    if (open) await this.run(ctx);
    // It parked for an approval meanwhile.
    if (j.request?.approval) return this.busy(j.request.approval.id, ctx);
    openRequest(j, id, prompt, ctx.context.clock.now(), channel);
    this.changed();
    return this.run(ctx);
  }

  /** A prompt to a conversation that waits for a person: refused (an ask is told why; a tell is dead-lettered). */
  private busy(approvalId: string, ctx: HostContext): typeof ANSWERED_LATER {
    const err = new ConversationBusyError(ctx.id, approvalId);
    if (ctx.answering) ctx.answerLater(ctx.answering, null, toWireError(err));
    else ctx.deadLetter(err.message);
    return ANSWERED_LATER;
  }

  private resume(id: string, ctx: HostContext): Promise<typeof ANSWERED_LATER> | typeof ANSWERED_LATER {
    const open = this.journal.request;
    if (!open || open.id !== id) return ANSWERED_LATER; // finished meanwhile, or not ours to resume
    return this.rejoin(open, open.channel, ctx);
  }

  /** Go on with the open request, answering `channel` in the end. */
  private rejoin(open: OpenRequest, channel: RequestChannel | null, ctx: HostContext): Promise<typeof ANSWERED_LATER> | typeof ANSWERED_LATER {
    if (channel && (channel.reply !== open.channel?.reply || channel.id !== open.channel?.id)) {
      open.channel = channel;
      this.changed();
    }
    if (open.approval) {
      this.park(open, ctx);
      return ANSWERED_LATER;
    }
    return this.run(ctx);
  }

  private async decide(approvalId: string, decision: "approve" | "deny", reason: string | undefined, ctx: HostContext): Promise<typeof ANSWERED_LATER> {
    const j = this.journal;
    const open = j.request;
    const approval = open?.approval;
    if (!open || !approval || approval.id !== approvalId) {
      if (ctx.answering) ctx.answerLater(ctx.answering, null, toWireError(new ApprovalNotFoundError(ctx.id, approvalId)));
      return ANSWERED_LATER;
    }
    const now = ctx.context.clock.now();
    // Past its deadline whoever answers; the agent's own deny is its timer's (which may fire a moment early).
    const timedOut = now >= approval.deadline || (decision === "deny" && ctx.sender === ctx.id);
    const approved = decision === "approve" && !timedOut;
    const why = timedOut ? `no answer within ${this.config.approvalTimeoutMs} ms` : (reason ?? "denied");
    if (approved) open.approved.push(approval.toolCallId);
    else j.messages.push({ role: "tool", tool_call_id: approval.toolCallId, content: JSON.stringify({ error: `a person denied this call: ${why}` }) });
    open.approval = null;
    const fields = { request: open.id, approval: approval.id, tool: approval.tool };
    logEvent(j, { at: now, event: approved ? "approved" : timedOut ? "approval_timeout" : "denied", by: ctx.sender, ...fields, ...(approved ? {} : { reason: why }) });
    if (timedOut) ctx.context.events.publish(EventKind.ApprovalTimeout, ctx.type, ctx.key, { ...fields, reason: why });
    else ctx.context.events.publish(EventKind.ApprovalDecided, ctx.type, ctx.key, { ...fields, decision: approved ? "approved" : "denied", by: ctx.sender, ...(approved ? {} : { reason: why }) });
    this.changed();
    if (this.approvalTimer !== undefined) ctx.context.clock.clearTimeout(this.approvalTimer);
    this.approvalTimer = undefined;
    ctx.awaitingApproval(false);
    await ctx.commit();
    if (ctx.answering) ctx.answerLater(ctx.answering, { approval: approval.id, decision: approved ? "approved" : "denied" }, null);
    if (!approved) this.send(open, { type: "tool_result", id: approval.toolCallId, name: approval.tool, error: `denied: ${why}` });
    return this.run(ctx);
  }

  // ---- the loop -------------------------------------------------------------

  /** Run the open request until it is answered, fails, or parks for an approval. */
  private async run(ctx: HostContext): Promise<typeof ANSWERED_LATER> {
    const j = this.journal;
    this.startKeepAlive(ctx);
    try {
      if (j.request && this.config.toolbox.mcp.length > 0) {
        // An MCP server that cannot be reached fails the request with a typed error; the node goes on.
        try {
          this.toolbox = await this.config.toolbox.expand(ctx.context.mcp);
        } catch (err) {
          const e = err instanceof McpUnavailableError ? err : new McpUnavailableError(this.config.toolbox.mcp[0]!.mcp.label, errorText(err), { cause: err });
          return await this.fail(j.request, e, ctx);
        }
        if (ctx.endedWith) throw ctx.endedWith;
      }
      for (;;) {
        const open = j.request;
        if (!open) return ANSWERED_LATER;
        const step = nextStep(j, open);
        if (step.kind === "done") return await this.finish(open, step.text, ctx);
        if (step.kind === "tools") {
          for (const call of step.calls) {
            if (await this.runTool(open, call, ctx)) return ANSWERED_LATER; // parked
          }
          continue;
        }
        const over = this.overBudget(open, ctx);
        if (over) return await this.fail(open, over, ctx);
        let turn;
        try {
          turn = await this.callModel(open, ctx);
        } catch (err) {
          if (err instanceof ModelError) return await this.fail(open, err, ctx);
          throw err;
        }
        const tokens = turn.usage.inputTokens + turn.usage.outputTokens;
        open.inputTokens += turn.usage.inputTokens;
        open.outputTokens += turn.usage.outputTokens;
        open.modelCalls++;
        j.spent = addSpent(j.spent, { tokens, modelCalls: 1 });
        j.messages.push(uniqueCallIds(turn.message, toolCallIds(j, open)));
        this.changed();
        if (!this.fits()) return await this.fail(open, this.tooLarge(), ctx);
        await ctx.commit();
      }
    } finally {
      // Parked: the wait keeps its asker alive with keep-alives of its own.
      if (!j.request?.approval) this.stopKeepAlive();
    }
  }

  private callModel(open: OpenRequest, ctx: HostContext) {
    const messages: ModelMessage[] = this.config.instructions ? [{ role: "system", content: this.config.instructions }, ...this.journal.messages] : this.journal.messages;
    const streams = open.channel?.stream != null;
    return this.client!.complete({
      messages,
      tools: this.toolbox.specs,
      signal: ctx.signal,
      conversationId: ctx.id,
      ...(streams ? { onDelta: (delta: string) => this.send(open, { type: "text", delta }) } : {}),
      onRetry: (err, delayMs, attempt) => this.send(open, { type: "status", status: `retrying after ${err.kind} in ${delayMs} ms (attempt ${attempt})` }),
    });
  }

  /** Run one tool call of the model's; true when it parked the request for an approval. */
  private async runTool(open: OpenRequest, call: ModelToolCall, ctx: HostContext): Promise<boolean> {
    const j = this.journal;
    const { toolbox } = this;
    const name = call.function.name;
    const check = toolbox.check(name, call.function.arguments);
    this.send(open, { type: "tool_call", id: call.id, name, args: check.ok ? check.args : call.function.arguments });
    if (!check.ok) {
      this.refused(open, call, check.refusal, check.error, ctx);
      j.messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify({ error: check.error }) });
      this.changed();
      await ctx.commit();
      this.send(open, { type: "tool_result", id: call.id, name, error: check.error });
      return false;
    }
    if (check.approval && !open.approved.includes(call.id)) {
      const now = ctx.context.clock.now();
      open.approval = { id: nextMessageId(), toolCallId: call.id, tool: name, args: check.args, deadline: now + this.config.approvalTimeoutMs };
      const { id, deadline } = open.approval;
      logEvent(j, { at: now, request: open.id, event: "approval_requested", approval: id, tool: name, args: check.args });
      ctx.context.events.publish(EventKind.ApprovalRequested, ctx.type, ctx.key, { request: open.id, approval: id, tool: name, args: check.args, deadline });
      this.changed();
      await ctx.commit();
      this.park(open, ctx);
      return true;
    }
    // A call without a result in the journal runs (again, after a crash) with the same idempotency key.
    const toolCtx: ToolContext = { idempotencyKey: toolCallKey(ctx.id, open.id, call.id), toolCallId: call.id, agent: ctx, signal: ctx.signal };
    const outcome = await toolSpan(name, call.id, ctx.id, () => toolbox.run(name, check.args, toolCtx, ctx.context.clock));
    if (ctx.endedWith) throw ctx.endedWith;
    if (!outcome.ok && outcome.refusal !== undefined) this.refused(open, call, outcome.refusal, outcome.error, ctx);
    j.messages.push({ role: "tool", tool_call_id: call.id, content: outcome.text });
    this.changed();
    if (!this.fits()) {
      await this.fail(open, this.tooLarge(), ctx);
      return true;
    }
    await ctx.commit();
    this.send(open, outcome.ok ? { type: "tool_result", id: call.id, name, result: outcome.result } : { type: "tool_result", id: call.id, name, error: outcome.error });
    return false;
  }

  /** A tool call refused without running: counted in the journal's log, and published. */
  private refused(open: OpenRequest, call: ModelToolCall, refusal: ToolRefusal, error: string, ctx: HostContext): void {
    const fields = { request: open.id, tool: call.function.name, refusal, error };
    logEvent(this.journal, { at: ctx.context.clock.now(), event: "tool_refused", ...fields });
    // A `can` refusal was counted and published by the grant check already (as permission_denied); it is a tool refusal too.
    ctx.context.denials.toolRefused(ctx.type, ctx.key, fields);
  }

  /** The request waits for a person: the lifecycle says so, the asker is shown the call, and the timeout is armed. */
  private park(open: OpenRequest, ctx: HostContext): void {
    const approval = open.approval!;
    ctx.awaitingApproval(true);
    this.send(open, { type: "approval", id: approval.id, tool: approval.tool, args: approval.args });
    this.startKeepAlive(ctx);
    if (this.approvalTimer !== undefined) ctx.context.clock.clearTimeout(this.approvalTimer);
    const inMs = Math.max(0, approval.deadline - ctx.context.clock.now()) + 1;
    this.approvalTimer = ctx.context.clock.setTimeout(() => {
      this.approvalTimer = undefined;
      // Through the mailbox, like any decision: the deny finds the deadline passed.
      if (!this.stopped) void ctx.self.tell({ approval: approval.id, decision: "deny", reason: "timed out" }).catch(() => {});
    }, inMs);
  }

  /**
   * Whether the journal fits the agent's state (the node's largest message,
   * less room for the record around it), after dropping the oldest exchanges
   * if it must: a conversation grows with every request, and a state that
   * cannot be stored would fail every activation that tried.
   */
  private fits(): boolean {
    const limit = this.ctx!.context.maxMessageBytes - STATE_HEADROOM_BYTES;
    return fitJournal(this.journal, limit, (j) => encodeValue(j).length);
  }

  private tooLarge(): ModelError {
    const limit = this.ctx!.context.maxMessageBytes - STATE_HEADROOM_BYTES;
    return new ModelError(ModelErrorKind.ContextLength, `this request's conversation no longer fits the agent's state (at most ${limit} bytes)`, { retryable: false });
  }

  private overBudget(open: OpenRequest, ctx: HostContext): BudgetExceededError | undefined {
    const now = ctx.context.clock.now();
    const request: Spent = { tokens: open.inputTokens + open.outputTokens, modelCalls: open.modelCalls, wallMs: now - open.startedAt };
    const conversation: Spent = { ...this.journal.spent, wallMs: this.journal.spent.wallMs + request.wallMs };
    return budgetExceeded(requestLimits(this.config), this.config.budget?.conversation, request, conversation);
  }

  /** The model answered without tool calls: the request is done. */
  private async finish(open: OpenRequest, text: string, ctx: HostContext): Promise<typeof ANSWERED_LATER> {
    const reply: ModelReply = { text, usage: { inputTokens: open.inputTokens, outputTokens: open.outputTokens }, steps: open.modelCalls };
    this.close(open, { id: open.id, value: reply }, ctx);
    await ctx.commit();
    if (open.channel) ctx.answerLater(open.channel as AnswerChannel, reply, null);
    return ANSWERED_LATER;
  }

  /**
   * The request failed (a model error that is not retried, or past its
   * budget): its exchange leaves the conversation (a half-done exchange would
   * break the next one), its asker gets the typed error, and a budget stop
   * fails the activation, so the supervisor counts it like a crash.
   */
  private async fail(open: OpenRequest, err: ModelError | BudgetExceededError | McpUnavailableError, ctx: HostContext): Promise<typeof ANSWERED_LATER> {
    const j = this.journal;
    j.messages.length = Math.min(j.messages.length, open.first);
    const wire = toWireError(err);
    this.close(open, { id: open.id, error: wire }, ctx);
    logEvent(j, { at: ctx.context.clock.now(), request: open.id, event: err instanceof BudgetExceededError ? "budget_exceeded" : err instanceof McpUnavailableError ? "mcp_unavailable" : "model_error", error: err.message });
    await ctx.commit();
    if (open.channel) ctx.answerLater(open.channel as AnswerChannel, null, wire);
    if (err instanceof BudgetExceededError) {
      ctx.context.events.publish(EventKind.BudgetExceeded, ctx.type, ctx.key, { request: open.id, scope: err.scope, limit: err.limit, allowed: err.allowed, spent: err.spent });
      ctx.failAfter(errorText(err));
    }
    return ANSWERED_LATER;
  }

  /** Close the open request with its outcome; the conversation's wall time takes the request's. */
  private close(open: OpenRequest, outcome: { id: string; value?: ModelReply; error?: ReturnType<typeof toWireError> }, ctx: HostContext): void {
    const j = this.journal;
    j.spent = addSpent(j.spent, { wallMs: Math.max(0, ctx.context.clock.now() - open.startedAt) });
    keepOutcome(j, outcome);
    j.request = null;
    this.changed();
  }

  // ---- chunks and keep-alives -------------------------------------------------

  /** Send a chunk to the request's asker, if any; a chunk that cannot be sent is not the request's failure. */
  private send(open: OpenRequest, chunk: Chunk): void {
    const channel = open.channel;
    if (!channel || !this.ctx || this.ctx.endedWith) return;
    try {
      this.ctx.emitTo(channel as AnswerChannel, chunk);
    } catch {
      // Too large, or not encodable: the final reply still says it all.
    }
  }

  /** Every `keepAliveMs` while the request runs or waits, a status chunk to its asker. */
  private startKeepAlive(ctx: HostContext): void {
    if (this.keepAlive !== undefined) return;
    const { clock } = ctx.context;
    const tick = (): void => {
      this.keepAlive = undefined;
      const open = this.journal.request;
      if (this.stopped || !open || ctx.endedWith) return;
      this.send(open, { type: "status", status: open.approval ? "awaiting_approval" : "thinking" });
      this.keepAlive = clock.setTimeout(tick, this.config.keepAliveMs);
    };
    this.keepAlive = clock.setTimeout(tick, this.config.keepAliveMs);
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== undefined) this.ctx?.context.clock.clearTimeout(this.keepAlive);
    this.keepAlive = undefined;
  }

  private changed(): void {
    this.dirty = true;
  }
}

/** Bytes of the largest message kept for what is stored around the journal (the state record, a durable mailbox's place). */
const STATE_HEADROOM_BYTES = 16 * 1024;

/**
 * The model's answer with every tool call id unique in its request: a
 * server that reuses ids (`call_0` each time) would make two calls one for
 * the journal, the approvals and the idempotency keys.
 */
function uniqueCallIds(message: ModelTurn["message"], seen: ReadonlySet<string>): ModelTurn["message"] {
  const calls = message.tool_calls;
  if (!calls) return message;
  const taken = new Set(seen);
  let renamed = false;
  const unique = calls.map((c) => {
    if (!taken.has(c.id)) {
      taken.add(c.id);
      return c;
    }
    renamed = true;
    const id = `call_${randomUUID()}`;
    taken.add(id);
    return { ...c, id };
  });
  return renamed ? { ...message, tool_calls: unique } : message;
}

/** The journal's form of an ask's channel. */
function channelOf(answering: AnswerChannel | undefined): RequestChannel | null {
  return answering ? { reply: answering.reply, id: answering.id, stream: answering.stream ?? null } : null;
}
