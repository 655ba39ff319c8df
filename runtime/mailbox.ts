// An agent's mailbox: a bounded FIFO of messages waiting to be handled, one at
// a time. It only holds; the agent host decides when to drain it (not while the
// agent restarts), so messages for a restarting agent wait here.
//
// A mailbox is bounded twice: by count and by bytes (the encoded size of what
// it holds). All mailboxes of a node also share one byte budget, so a flood of
// large messages to many slow agents cannot exhaust the node's memory either.

/** The bytes all mailboxes of one node may hold together. */
export class MailboxBudget {
  /** Bytes held now. */
  used = 0;
  constructor(readonly limit: number) {}
}

/** Why a push was refused. */
export type MailboxRefusal = "count" | "bytes" | "node";

/** A FIFO queue with O(1) push and shift, bounded by count and bytes. */
export class Mailbox<T> {
  private items: (T | undefined)[] = [];
  private sizes: number[] = [];
  private head = 0;
  private held = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
    private readonly budget: MailboxBudget = new MailboxBudget(Number.POSITIVE_INFINITY),
  ) {}

  /** Messages waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.held;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /**
   * Offer a message of `bytes` bytes for the back of the queue. Returns null
   * when it was taken, or which bound refused it (and then keeps nothing).
   */
  offer(item: T, bytes = 0): MailboxRefusal | null {
    if (this.size >= this.capacity) return "count";
    if (this.held + bytes > this.maxBytes) return "bytes";
    if (this.budget.used + bytes > this.budget.limit) return "node";
    this.items.push(item);
    this.sizes.push(bytes);
    this.held += bytes;
    this.budget.used += bytes;
    return null;
  }

  /**
   * Put a message at the back whatever the bounds (one already stored
   * elsewhere, which the sender was told is safe: a durable mailbox's). Its
   * bytes still count, so core messages meet a full mailbox sooner.
   */
  push(item: T, bytes = 0): void {
    this.items.push(item);
    this.sizes.push(bytes);
    this.held += bytes;
    this.budget.used += bytes;
  }

  /** Take the message at the front, or undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    const bytes = this.sizes[this.head]!;
    this.held -= bytes;
    this.budget.used -= bytes;
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove every waiting message `drop` says to, keeping the others in order. */
  remove(drop: (item: T) => boolean): void {
    const keep: T[] = [];
    const sizes: number[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      const bytes = this.sizes[i]!;
      if (drop(item)) {
        this.held -= bytes;
        this.budget.used -= bytes;
      } else {
        keep.push(item);
        sizes.push(bytes);
      }
    }
    this.items = keep;
    this.sizes = sizes;
    this.head = 0;
  }

  /** Remove and return everything waiting. */
  takeAll(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.budget.used -= this.held;
    this.held = 0;
    this.items = [];
    this.sizes = [];
    this.head = 0;
    return rest;
  }
}
