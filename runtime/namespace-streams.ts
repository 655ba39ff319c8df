// The namespace's streams belong to Troupe: a stream of one of their names that
// captures other subjects than Troupe gives it (or republishes, mirrors,
// sources or transforms messages) was made by someone else, before any node
// ran. Used as it is, it would capture control requests and answer them with
// JetStream acknowledgements in a node's place, or copy what agents write to
// subjects of its maker's choosing. So a node checks every stream of the
// namespace that exists before it writes anything, and shared memory checks
// each bucket it opens; either refuses to go on with InvalidConfigError.

import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import { InvalidConfigError } from "./errors.js";
import { isStreamNotFound } from "./memory/jetstream-errors.js";
import type { Retry } from "./state-store.js";
import type { OwnedStream, Subjects } from "./subjects.js";

/** Stream settings Troupe never gives its streams: any of them set means someone else made the stream. */
const FOREIGN_SETTINGS = ["republish", "mirror", "sources", "subject_transform"] as const;

/**
 * Throw InvalidConfigError when `config` (an existing stream's) is not what
 * Troupe gives `wanted`: exactly its subjects, and none of the settings that
 * move messages elsewhere. The error names the stream, what was found, and the fix.
 */
export function checkStream(config: Partial<StreamConfig>, wanted: OwnedStream): void {
  const found = Array.isArray(config.subjects) ? config.subjects : [];
  const exact = found.length === wanted.subjects.length && wanted.subjects.every((s) => found.includes(s));
  const foreign = FOREIGN_SETTINGS.filter((k) => isSet((config as Record<string, unknown>)[k]));
  if (exact && foreign.length === 0) return;
  const what = exact
    ? `it has ${foreign.join(", ")} set, which Troupe never sets`
    : `it captures ${JSON.stringify(found)}, not ${JSON.stringify(wanted.subjects)}${foreign.length > 0 ? `, and has ${foreign.join(", ")} set` : ""}`;
  throw new InvalidConfigError(
    `stream ${wanted.name}`,
    `${what}, so it was not made by Troupe, and used as it is it would take messages meant for others. ` +
      `Nothing was written to it: an admin should see what it holds, delete it (\`nats stream rm ${wanted.name}\` with an admin credential), and start again.`,
  );
}

/**
 * Check every stream of the namespace that exists ({@link Subjects.streams});
 * those that do not are made by the node as Troupe gives them.
 *
 * @throws InvalidConfigError for the first stream found that Troupe did not make
 */
export async function checkNamespaceStreams(nc: NatsConnection, subjects: Subjects, retry: Retry): Promise<void> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const configs = await Promise.all(
    subjects.streams().map((wanted) =>
      retry(`check stream ${wanted.name}`, () =>
        jsm.streams.info(wanted.name).then(
          (info) => ({ wanted, config: info.config as Partial<StreamConfig> | undefined }),
          (err: unknown) => (isStreamNotFound(err) ? { wanted, config: undefined } : Promise.reject(err)),
        ),
      ),
    ),
  );
  for (const { wanted, config } of configs) if (config !== undefined) checkStream(config, wanted);
}

/** A setting is set when it holds something: not absent, null, or an empty list or object. */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}
