// The server's "Permissions Violation" (a credential that does not allow a
// subject), turned into PermissionDeniedError at the boundary: nats.js
// reports it as a PermissionViolationError, on its own or as the cause of a
// failed request.

import { PermissionDeniedError } from "../errors.js";

/** The fields nats.js's PermissionViolationError carries. */
interface Violation {
  operation: "publish" | "subscription";
  subject: string;
}

/** The violation in `err` or its causes, if there is one. */
export function violationOf(err: unknown): Violation | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const v = e as Error & Partial<Violation>;
    if (v.name === "PermissionViolationError" && typeof v.subject === "string" && (v.operation === "publish" || v.operation === "subscription")) {
      return { operation: v.operation, subject: v.subject };
    }
  }
  return undefined;
}

/** A PermissionDeniedError for a violation the server reported, with the original as its cause. */
export function deniedByServer(v: Violation, cause?: unknown): PermissionDeniedError {
  const operation = v.operation === "publish" ? "publish to" : "subscribe to";
  return new PermissionDeniedError(operation, v.subject, "", "refused by the NATS server: the connection's credential does not allow it", { cause });
}

/** `err` as PermissionDeniedError when it is a permission violation, else unchanged. */
export function asPermissionDenied(err: unknown): unknown {
  const v = violationOf(err);
  return v === undefined ? err : deniedByServer(v, err);
}
