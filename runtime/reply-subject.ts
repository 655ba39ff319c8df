// Where the runtime sends replies. A reply subject comes from the sender and is
// as hostile as the rest of the message: an ask whose reply subject names a
// key of the state bucket or an event subject would make an agent write there.
// So replies go only to inbox subjects: `_INBOX.` and one or more tokens,
// without wildcards or spaces, as every NATS client makes them by default.

/** The prefix every accepted reply subject starts with. */
export const INBOX_PREFIX = "_INBOX.";

/** Longest accepted reply subject (a client's inbox is under 60 characters). */
export const MAX_REPLY_SUBJECT = 256;

const INBOX = /^_INBOX(?:\.[^.\s*>]+)+$/;

/** Whether the runtime may answer on `subject`. */
export function isReplySubject(subject: string): boolean {
  return subject.length <= MAX_REPLY_SUBJECT && subject.startsWith(INBOX_PREFIX) && INBOX.test(subject);
}

/** Why a reply subject is refused, for the dead letter and the event. */
export function replySubjectProblem(subject: string): string {
  const shown = subject.length > 80 ? `${subject.slice(0, 80)}…` : subject;
  return `reply subject ${JSON.stringify(shown)} is not an inbox (replies go only to ${INBOX_PREFIX}… subjects)`;
}
