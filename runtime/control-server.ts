// A node's side of the control protocol: it listens on its own control and
// info subjects (`troupe.<ns>.node.<id>.ctl.<type>`, `.info`) and, in a queue
// group, on the pool subjects of each type it hosts (`troupe.<ns>.pool.<type>.spawn`,
// `.activate`). It decodes and checks each request (a `system` envelope
// whose body is a Control, taken only on its own subject and, where the
// subject names an agent type, only about agents of that type: ControlLane),
// carries it out on its Hosting, and answers. Nothing from the wire throws out of the callback: every failure is
// a typed error reply to an inbox, or, with nowhere to reply, a counted drop
// and an `invalid_message` event about `node/<id>`. A `list` is answered one
// page at a time, each page as many agents as fit one message.

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { checkRoute, decodeControl, MAX_LIST_LIMIT, routeOf, type Control, type ListRequest } from "./control.js";
import { decodeEnvelope, encodeReply, isEventEnvelope, Kind } from "./envelope.js";
import { errorText, InvalidArgumentError, InvalidMessageError, toWireError } from "./errors.js";
import { EventKind, type EventPublisher } from "./events.js";
import type { Hosting } from "./hosting.js";
import { fillListPage, type ListPage } from "./list-page.js";
import type { Messenger } from "./messenger.js";
import { formatAgentId, isReplySubject, replySubjectProblem, type Subjects } from "./subjects.js";

/** Answers control requests for one node. */
export class ControlServer {
  private readonly subs: Subscription[] = [];
  /** Requests refused with nowhere to send the error (no reply subject, or one that is not an inbox). */
  rejected = 0;

  constructor(
    private readonly nodeId: string,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly messenger: Messenger,
    private readonly events: EventPublisher,
    private readonly hosting: Hosting,
    private readonly maxMessageBytes: number,
  ) {}

  /** Subscribe to the node's control subject and its types' pool subjects. */
  async listen(): Promise<void> {
    const callback = (err: Error | null, msg: Msg): void => {
      if (err) this.events.publish(EventKind.AgentError, "node", this.nodeId, { where: "control subscription", reason: errorText(err) });
      else void this.onControl(msg);
    };
    this.subs.push(this.nc.subscribe(this.subjects.nodeControlAll(this.nodeId), { callback }));
    this.subs.push(this.nc.subscribe(this.subjects.nodeInfo(this.nodeId), { callback }));
    for (const type of this.hosting.typeNames()) {
      this.subs.push(this.nc.subscribe(this.subjects.poolRequests(type), { queue: this.subjects.poolQueue(type), callback }));
    }
    await this.nc.flush();
  }

  /** Stop answering. */
  close(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
  }

  /** A control request from the wire: decoded and checked, then carried out; never throws, never rejects. */
  private async onControl(msg: Msg): Promise<void> {
    let inReplyTo = "";
    const replyTo = msg.reply && isReplySubject(msg.reply) ? msg.reply : undefined;
    const sender = `node:${this.nodeId}`;
    try {
      const env = decodeEnvelope(msg.data, this.maxMessageBytes);
      inReplyTo = env.id;
      if (env.kind !== Kind.System) throw new InvalidArgumentError("kind", "a node's control subject takes system messages only");
      if (msg.reply && !replyTo) throw new InvalidMessageError(replySubjectProblem(msg.reply));
      const control = decodeControl(env.body);
      checkRoute(control, routeOf(this.subjects, msg.subject));
      const result = await this.handle(control, inReplyTo, sender);
      if (replyTo) this.messenger.reply(replyTo, inReplyTo, sender, result, null);
    } catch (err) {
      if (replyTo) {
        this.messenger.reply(replyTo, inReplyTo, sender, null, toWireError(err));
      } else {
        this.rejected++;
        // An event sent here (a consumer of the events stream delivering to this subject) is counted only:
        // an event about it would be stored and delivered here again.
        if (!isEventEnvelope(msg.data)) this.events.publish(EventKind.InvalidMessage, "node", this.nodeId, { reason: errorText(err) });
      }
    }
  }

  private async handle(c: Control, inReplyTo: string, sender: string): Promise<unknown> {
    switch (c.op) {
      case "spawn":
        await this.hosting.spawn(c);
        return { id: formatAgentId(c.type, c.key), node: this.nodeId };
      case "activate":
        return this.hosting.activate(c.type, c.key);
      case "stop":
        await this.hosting.stop(c.id);
        return { stopped: c.id };
      case "kill":
        this.hosting.kill(c.id, c.reason ?? "killed");
        return { killed: c.id };
      case "fence":
        await this.hosting.verifyClaim(c.id);
        return { checked: c.id };
      case "list":
        return this.listPage(c, inReplyTo, sender);
      case "tree":
        return { node: this.nodeId, id: "root", strategy: "one_for_one", children: this.hosting.tree() };
    }
  }

  /** The page a list request asks for, as large as the reply to it can be. */
  private listPage(c: ListRequest, inReplyTo: string, sender: string): ListPage {
    const emptyPageBytes = encodeReply(inReplyTo, sender, { agents: [] }, null, Number.POSITIVE_INFINITY).length;
    return fillListPage(this.hosting.listFrom(c.after), c.limit ?? MAX_LIST_LIMIT, this.maxMessageBytes, emptyPageBytes);
  }
}
