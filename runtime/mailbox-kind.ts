// The two kinds of mailbox an agent type can take (defineAgent's `mailbox`).

/** The mailbox an agent type takes. */
export const MailboxKind = {
  /** Core NATS: at most once. */
  Core: "core",
  /** A JetStream stream: stored before `tell` resolves, applied exactly once. */
  Durable: "durable",
} as const;
export type MailboxKind = (typeof MailboxKind)[keyof typeof MailboxKind];
