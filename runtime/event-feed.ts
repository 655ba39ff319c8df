// Reading a namespace's events as a client (`client.events()`, `agentctl events`):
// with `since`, the kept history from the events stream (events-stream.ts)
// and then what arrives, through one ordered (push) consumer that starts at
// now - since, so the seam between history and live has neither a gap nor a
// duplicate; without it, live events only, from a core subscription. A read
// creates no stream: a namespace without an events stream is reported, never
// made. What arrives is hostile: a message that does not decode to a
// well-formed event of its subject is skipped and counted, never thrown.

import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import type { Clock } from "./clock.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./codec.js";
import { decodeEnvelope, Kind } from "./envelope.js";
import { violationOf } from "./auth/permission-violation.js";
import { errorText, InvalidArgumentError, InvalidMessageError, NamespaceNotFoundError, PermissionDeniedError } from "./errors.js";
import { EventKind, type TroupeEvent } from "./events.js";
import { isStreamNotFound } from "./memory/jetstream-errors.js";
import { bucketStream, formatAgentId, parseAgentId, type Subjects } from "./subjects.js";

/** What {@link openEventFeed} (`client.events`) reads. */
export interface EventFeedOptions {
  /** Start this many ms back, from the namespace's kept history; without it, only events from now on. */
  since?: number;
  /** Only these kinds (default: every kind). */
  kinds?: readonly EventKind[];
  /** Only events about this agent (`type/key`, or `node/<node id>` for a node's own events). */
  agent?: string;
  /** With `since`: end once the history is read, instead of going on with live events. Default true. */
  follow?: boolean;
  /** Told about each skipped message: its subject and why. */
  onSkip?: (subject: string, reason: string) => void;
}

/** A running read of events: iterate it (`for await`), stop it when done. */
export interface EventFeed extends AsyncIterable<TroupeEvent> {
  /** Whether the namespace keeps event history (its events stream exists). */
  readonly stored: boolean;
  /** Messages that were no well-formed event, skipped so far. */
  readonly skipped: number;
  /** End the read: the iteration finishes. */
  stop(): void;
}

/** The largest time in ms a Date holds (ECMAScript's time range); a later `at` cannot be shown as a date. */
const MAX_TIME = 8.64e15;

const KINDS: ReadonlySet<string> = new Set(Object.values(EventKind));

/** Every event kind, in the order events.ts declares them. */
export const EVENT_KINDS: readonly EventKind[] = Object.values(EventKind);

/**
 * Decode and check one message of an event subject: a Troupe envelope of kind
 * Event whose body names a known kind, the agent and the kind its subject
 * names, a node and a time.
 *
 * @throws InvalidMessageError saying what is wrong
 */
export function decodeEvent(subjects: Subjects, subject: string, data: Uint8Array, maxBytes: number): TroupeEvent {
  const where = subjects.parseEvent(subject);
  if (where === undefined) throw new InvalidMessageError(`${subject} is not an event subject of namespace ${subjects.ns}`);
  const env = decodeEnvelope(data, maxBytes);
  if (env.kind !== Kind.Event) throw new InvalidMessageError(`message of kind ${env.kind} on an event subject`);
  const body = env.body as Record<string, unknown> | null;
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new InvalidMessageError("event body is not an object");
  if (typeof body.kind !== "string" || !KINDS.has(body.kind)) throw new InvalidMessageError(`unknown event kind ${JSON.stringify(body.kind)}`);
  if (body.kind !== where.kind) throw new InvalidMessageError(`event of kind ${body.kind} on the subject of kind ${where.kind}`);
  if (body.id !== formatAgentId(where.type, where.key)) throw new InvalidMessageError(`event about ${String(body.id)} on the subject of ${where.type}/${where.key}`);
  if (typeof body.node !== "string") throw new InvalidMessageError("event without a node");
  if (typeof body.at !== "number" || !Number.isFinite(body.at)) throw new InvalidMessageError("event without a time");
  if (Math.abs(body.at) > MAX_TIME) throw new InvalidMessageError(`event time ${body.at} is out of range of a date`);
  return body as TroupeEvent;
}

/** Check the options of a read; a bad one is an InvalidArgumentError naming it. */
function checked(options: EventFeedOptions): { since: number | undefined; kinds: readonly EventKind[] | undefined; agent: { type: string; key: string } | undefined } {
  const { since, kinds, agent } = options;
  if (since !== undefined && (typeof since !== "number" || !Number.isFinite(since) || since <= 0)) {
    throw new InvalidArgumentError("since", `since is a number of ms above 0, got ${JSON.stringify(since)}`);
  }
  for (const k of kinds ?? []) {
    if (!KINDS.has(k)) throw new InvalidArgumentError("kind", `unknown event kind ${JSON.stringify(k)}; the kinds are ${EVENT_KINDS.join(", ")}`);
  }
  return { since, kinds: kinds && kinds.length > 0 ? kinds : undefined, agent: agent === undefined ? undefined : parseAgentId(agent) };
}

/**
 * Open a read of the namespace's events (see the file comment).
 *
 * @throws InvalidArgumentError for a bad option; NamespaceNotFoundError with `since` when no node ever ran in the
 *   namespace (one whose nodes keep no history, `eventHistory: false`, gives live events only, `stored` false)
 */
export async function openEventFeed(nc: NatsConnection, subjects: Subjects, clock: Clock, options: EventFeedOptions = {}): Promise<EventFeed> {
  const { since, kinds, agent } = checked(options);
  const maxBytes = nc.info?.max_payload ?? DEFAULT_MAX_MESSAGE_BYTES;
  const type = agent?.type ?? "*";
  const key = agent?.key ?? "*";
  const stream = subjects.eventsStream();
  if (since === undefined) {
    const stored = await jetstreamManager(nc, { checkAPI: false })
      .then((jsm) => jsm.streams.info(stream))
      .then(
        () => true,
        () => false,
      );
    // One subscription: a single kind narrows its subject; several are picked below.
    const sub: Subscription = nc.subscribe(subjects.events(kinds?.length === 1 ? kinds[0] : "*", type, key));
    // The server knows of the subscription before the read is handed back: "from now on" holds.
    await nc.flush();
    return new Feed(subjects, maxBytes, sub, () => sub.unsubscribe(), stored, kinds, options.onSkip);
  }
  const js = jetstream(nc, { checkAPI: false });
  const filters = (kinds ?? ["*"]).map((k) => subjects.events(k, type, key));
  let messages: ConsumerMessages;
  let remove: () => void;
  try {
    // An ordered PUSH consumer, delivering to an inbox of this connection: a pull consumer's
    // messages answer its pull request, and a client of a secured namespace makes that request
    // through its account's service import of the JetStream API, which carries one answer
    // only — the first event would arrive and the rest never.
    const consumer = await js.consumers.getPushConsumer(stream, {
      // One filter as a string: nats.js then names the consumer in the create subject (several need the older form).
      filter_subjects: filters.length === 1 ? filters[0]! : filters,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(clock.now() - since).toISOString(),
    });
    // What the server counted when it made the consumer (nothing is delivered before consume() listens).
    const pending = options.follow === false ? (await consumer.info(true)).num_pending : undefined;
    messages = await consumer.consume();
    remove = () => void consumer.delete().catch(() => {});
    if (pending === 0) messages.stop();
  } catch (err) {
    if (isStreamNotFound(err)) {
      // A namespace whose nodes keep no history (`eventHistory: false`) still has live events;
      // one that does not exist at all is said so.
      if (!(await namespaceExists(nc, subjects))) throw new NamespaceNotFoundError(subjects.ns, { cause: err });
      if (options.follow === false) return new Feed(subjects, maxBytes, (async function* () {})(), () => {}, false, kinds, options.onSkip);
      return openEventFeed(nc, subjects, clock, { ...options, since: undefined });
    }
    // An observer may make no consumer of the events stream (roles.ts): say what to do instead.
    if (violationOf(err) !== undefined) {
      throw new PermissionDeniedError("read the kept events of", stream, "", "reading the kept history needs an admin credential; live events work without --since", { cause: err });
    }
    throw err;
  }
  const follow = options.follow !== false;
  async function* raw(): AsyncGenerator<RawMessage> {
    for await (const m of messages) yield { subject: m.subject, data: m.data, last: !follow && m.info.pending === 0 };
  }
  return new Feed(
    subjects,
    maxBytes,
    raw(),
    () => {
      messages.stop();
      remove();
    },
    true,
    kinds,
    options.onSkip,
  );
}

/** Whether any node ever ran in the namespace (its nodes bucket exists); creates nothing. */
async function namespaceExists(nc: NatsConnection, subjects: Subjects): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  return jsm.streams.info(bucketStream(subjects.nodesBucket()).name).then(
    () => true,
    (err: unknown) => (isStreamNotFound(err) ? false : Promise.reject(err)),
  );
}

/** A message as read, before it is checked; `last` ends the read after it. */
interface RawMessage {
  subject: string;
  data: Uint8Array;
  last?: boolean;
}

/** The feed over one source of raw messages (an ordered consumer's or a subscription's). */
class Feed implements EventFeed {
  skipped = 0;
  private stopped = false;

  constructor(
    private readonly subjects: Subjects,
    private readonly maxBytes: number,
    private readonly source: AsyncIterable<RawMessage>,
    private readonly end: () => void,
    readonly stored: boolean,
    private readonly kinds: readonly EventKind[] | undefined,
    private readonly onSkip: ((subject: string, reason: string) => void) | undefined,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<TroupeEvent> {
    try {
      for await (const m of this.source) {
        if (this.stopped) return;
        const event = this.check(m);
        if (event !== undefined && (this.kinds === undefined || this.kinds.includes(event.kind))) yield event;
        if (m.last) {
          // Stop the consumer first: ending the iteration alone waits for its pull to expire.
          this.stop();
          return;
        }
      }
    } finally {
      this.stop();
    }
  }

  /** The event a message holds, or undefined (counted, and told to onSkip) when it holds none. */
  private check(m: RawMessage): TroupeEvent | undefined {
    try {
      return decodeEvent(this.subjects, m.subject, m.data, this.maxBytes);
    } catch (err) {
      this.skipped++;
      try {
        this.onSkip?.(m.subject, errorText(err));
      } catch {
        // a throwing handler must not end the read
      }
      return undefined;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.end();
  }
}
