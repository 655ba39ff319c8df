// The value a behaviour's `handle` returns when it answers the ask itself,
// later or already, through the activation's `answer` (a model agent's
// request that waits for an approval, say): the activation sends no reply.

/** Returned by `handle`: the ask is (or will be) answered by the behaviour itself. */
export const ANSWERED_LATER: unique symbol = Symbol("answered later");
