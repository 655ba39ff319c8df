// Virtual agents, from the sender's side. A message to an on-demand agent is
// sent as usual, with a reply subject on the sender's inbox, so the server
// says when nobody listens (its 503 "no responders"). Then the sender asks
// the type's pool to activate the agent (one node of the pool's queue group
// claims it in the registry and starts it) and sends the message again.
//
// - An ask waits for the activation and is sent again within its own deadline.
// - A tell is kept only until the server has seen it (a flush): a tell that
//   comes back unheard waits for the activation with every later tell from
//   this sender to the same agent, and they are sent again in order. It is
//   still at most once: if the activation fails, the tells are counted in
//   `undeliveredTells`.
// - While another node holds the agent's claim (it is being activated or
//   passivated there) the pool answers AgentExistsError, and the sender tries
//   again after a short backoff.

import type { Msg, MsgHdrs } from "@nats-io/nats-core";
import type { Clock } from "./clock.js";
import { AgentExistsError, AgentNotFoundError, AskTimeoutError, errorText, NoNodeForTypeError, TroupeError } from "./errors.js";
import { PendingAsk } from "./requester.js";
import type { AgentId, Subjects } from "./subjects.js";

/** What the activator needs from its messenger. */
export interface ActivatorEnv {
  readonly clock: Clock;
  readonly subjects: Subjects;
  /** Send a control request to `subject` and wait for its answer. */
  control(subject: string, body: unknown, timeoutMs: number, noResponders: () => Error): Promise<unknown>;
  /** Publish a tell to an on-demand agent, listening for the server's word that nobody heard it. */
  sendTell(tell: BouncingTell): void;
}

/** Tells from one sender that may wait for one agent's activation; past it they are counted undelivered (a tell is at most once). */
export const MAX_WAITING_TELLS = 65_536;

/** First and longest pause before asking again while another node holds the agent's claim. */
const RETRY_MIN_MS = 10;
const RETRY_MAX_MS = 250;

/** A tell to an on-demand agent, waiting until the server has seen it. */
export class BouncingTell extends PendingAsk {
  /** How often it came back unheard. */
  attempt = 0;
  /** The proof of its sender, for an agent that accepts only verified senders (sent with it each time). */
  headers: MsgHdrs | undefined = undefined;

  constructor(
    readonly to: AgentId,
    readonly type: string,
    readonly key: string,
    readonly subject: string,
    readonly payload: Uint8Array,
    /** Its activation gives up at this time (on the clock of its sender). */
    readonly giveUpAt: number,
    private readonly bounced: (tell: BouncingTell) => void,
  ) {
    super();
  }

  resolve(_msg: Msg): void {
    // An agent does not answer a tell.
  }

  noResponders(): void {
    this.bounced(this);
  }

  timeout(): void {
    // Heard (its flush came back first, or the backstop deadline passed).
  }

  abort(): void {
    // The sender closed: tells are at most once.
  }
}

/** One agent being activated by this sender, and the tells that wait for it, in order. */
interface Waking {
  readonly done: Promise<void>;
  readonly tells: BouncingTell[];
}

/** Activates on-demand agents for one sender (a node or a client). */
export class Activator {
  /** Agents this sender is activating. An entry is deleted when its activation settles. */
  private readonly waking = new Map<AgentId, Waking>();
  /** Tells that could not be delivered: their agent could not be activated. */
  undeliveredTells = 0;

  constructor(private readonly env: ActivatorEnv) {}

  /** The activation in flight for `to`, if any: sends to it wait for it, to keep their order. */
  pending(to: AgentId): Promise<void> | undefined {
    return this.waking.get(to)?.done;
  }

  /**
   * Queue a tell behind the activation of its agent when one is in flight
   * (past {@link MAX_WAITING_TELLS} it is counted undelivered instead); false when there is none.
   */
  holdTell(tell: BouncingTell): boolean {
    const waking = this.waking.get(tell.to);
    if (!waking) return false;
    if (waking.tells.length < MAX_WAITING_TELLS) waking.tells.push(tell);
    else this.undeliveredTells++;
    return true;
  }

  /** A tell came back unheard: activate its agent, then send it (and those behind it) again. */
  readonly bounced = (tell: BouncingTell): void => {
    tell.attempt++;
    if (this.holdTell(tell)) return;
    this.wake(tell.to, tell.type, tell.key, tell.giveUpAt, tell.attempt - 1);
    this.holdTell(tell);
  };

  /**
   * Activate `type/key`, sharing an activation already in flight from this
   * sender; `attempt` counts the rounds so far (the backoff grows with it).
   * Rejects with AgentNotFoundError when no node activates it (the type is
   * spawn-only, or hosted nowhere), AskTimeoutError past `deadline`.
   */
  activate(to: AgentId, type: string, key: string, deadline: number, attempt: number): Promise<void> {
    return (this.waking.get(to) ?? this.wake(to, type, key, deadline, attempt)).done;
  }

  private wake(to: AgentId, type: string, key: string, deadline: number, attempt: number): Waking {
    const tells: BouncingTell[] = [];
    const done = this.activateNow(to, type, key, deadline, attempt).then(
      () => {
        this.waking.delete(to);
        for (const t of tells) this.env.sendTell(t);
      },
      (err: unknown) => {
        this.waking.delete(to);
        this.undeliveredTells += tells.length;
        throw err;
      },
    );
    // Tells have no caller to reject: their loss is counted above.
    done.catch(() => {});
    const waking = { done, tells };
    this.waking.set(to, waking);
    return waking;
  }

  /**
   * Ask the type's pool once to activate the agent. When another node holds
   * its claim (it is starting the agent, or passivating it), pause for a
   * backoff that grows with `attempt` and return: the caller sends again,
   * which reaches the agent once it listens, or comes back for another round.
   */
  private async activateNow(to: AgentId, type: string, key: string, deadline: number, attempt: number): Promise<void> {
    const { clock, subjects } = this.env;
    const left = deadline - clock.now();
    if (left <= 0) throw new AskTimeoutError(to, 0);
    try {
      await this.env.control(subjects.poolActivate(type), { op: "activate", type, key }, left, () => new NoNodeForTypeError(type, 0));
    } catch (err) {
      if (err instanceof NoNodeForTypeError) throw new AgentNotFoundError(to, { cause: err });
      if (!(err instanceof AgentExistsError)) throw err instanceof TroupeError ? err : new AgentNotFoundError(to, { cause: new Error(errorText(err)) });
      const pause = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 8));
      if (clock.now() + pause >= deadline) throw new AskTimeoutError(to, 0);
      await clock.sleep(pause);
    }
  }
}
