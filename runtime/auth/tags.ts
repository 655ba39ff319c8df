// The tags Troupe writes into every user JWT it issues (authority.ts) and
// reads back (a verifier of senders, the namespace check before connecting):
// what the credential is for, in the JWT itself.

/** Prefixes of the user JWT tags; the value follows the prefix. */
export const CredentialTag = {
  /** `troupe-role:<admin|node|client|observer>`. */
  Role: "troupe-role:",
  /** `troupe-ns:<namespace>`. */
  Namespace: "troupe-ns:",
  /** A credential narrowed to agent types: `troupe-types:t1,t2`. */
  Types: "troupe-types:",
  /** A credential narrowed to one agent: `troupe-agent:<type>/<key>`. */
  Agent: "troupe-agent:",
  /** A node credential bound to one node name: `troupe-node:<name>`. */
  Node: "troupe-node:",
  /** On node and admin credentials: the account that issues the namespace's client credentials, `troupe-clients:<A...>`. */
  Clients: "troupe-clients:",
} as const;
