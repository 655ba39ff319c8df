// The security fields of node and client options, checked once: which
// credentials file to connect with and which TLS files to use.

import { InvalidConfigError } from "../errors.js";
import type { TlsFiles } from "../connection.js";

/** The credentials file to use: the option (`null`: none), else `NATS_CREDS`, else none. */
export function credentialsPath(option: string | null | undefined): string | undefined {
  if (option === null) return undefined;
  const path = option ?? (process.env.NATS_CREDS || undefined);
  if (path !== undefined && (typeof path !== "string" || path.length === 0)) {
    throw new InvalidConfigError("credentials", "must be the path of a .creds file");
  }
  return path;
}

/** TLS files, each a non-empty path; a key needs its certificate and the other way round. */
export function tlsFiles(option: TlsFiles | undefined): TlsFiles | undefined {
  if (option === undefined) return undefined;
  if (option === null || typeof option !== "object") throw new InvalidConfigError("tls", "must be { ca?, cert?, key? } (paths of PEM files)");
  for (const field of ["ca", "cert", "key"] as const) {
    const v = option[field];
    if (v !== undefined && (typeof v !== "string" || v.length === 0)) throw new InvalidConfigError(`tls.${field}`, "must be the path of a PEM file");
  }
  if ((option.cert === undefined) !== (option.key === undefined)) {
    throw new InvalidConfigError("tls", "a client certificate and its key go together: give both cert and key, or neither");
  }
  return { ca: option.ca, cert: option.cert, key: option.key };
}
