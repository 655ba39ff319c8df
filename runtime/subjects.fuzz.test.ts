// Property tests of the naming scheme: validation throws nothing but
// InvalidArgumentError, and no two different (namespace, role, bucket) triples
// ever get the same bucket or stream name. Runs: FUZZ_RUNS (runtime/testing/fuzz.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import { MAX_SUBJECT_LENGTH, Subjects, validateBucketName, validateNamespace, validateToken } from "./subjects.js";
import { fuzzOptions } from "./testing/fuzz.js";

/** Names built from a few words and separators, so that near-collisions are likely. */
const wordy = fc
  .array(fc.constantFrom("iso", "mem", "x", "state", "registry", "nodes", "dlq", "mbox", "a", "A", "1"), { minLength: 1, maxLength: 4 })
  .chain((words) => fc.array(fc.constantFrom("_", "-", "."), { minLength: words.length - 1, maxLength: words.length - 1 }).map((seps) => words.map((w, i) => (i === 0 ? w : seps[i - 1] + w)).join("")));

/** Any string, mostly from the characters names are made of. */
const nameLike = fc.oneof(wordy, fc.string({ unit: fc.constantFrom(..."abcXYZ019_-. *>/"), maxLength: 140 }), fc.string(), fc.anything());

/** Does `f` either return or throw InvalidArgumentError (and nothing else)? */
function onlyInvalidArgument(f: () => unknown): { ok: boolean; threw: boolean } {
  try {
    f();
    return { ok: true, threw: false };
  } catch (err) {
    return { ok: err instanceof InvalidArgumentError, threw: true };
  }
}

/** Every bucket and stream name of a namespace, with what it names. */
function namesOf(ns: string, bucket: string | undefined): Array<[name: string, meaning: string]> {
  const s = new Subjects(ns);
  const out: Array<[string, string]> = [
    [s.stateBucket(), `${ns} state`],
    [s.registryBucket(), `${ns} registry`],
    [s.nodesBucket(), `${ns} nodes`],
    [s.memoryBucket(), `${ns} memory`],
    [s.mailboxStream(), `${ns} mailbox stream`],
    [s.deadLetterStream(), `${ns} dead-letter stream`],
  ];
  if (bucket !== undefined) out.push([s.memoryBucket(bucket), `${ns} memory bucket ${bucket}`]);
  // A KV bucket's stream is KV_<bucket>: it must not meet a Troupe stream either.
  for (const [name, meaning] of [...out]) if (name.startsWith("troupe_")) out.push([`KV_${name}`, `stream of ${meaning}`]);
  return out;
}

function accepted(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}

describe("names (property)", () => {
  it("validation returns the name or throws InvalidArgumentError, never anything else", () => {
    fc.assert(
      fc.property(nameLike, (x) => {
        const v = x as string;
        for (const f of [() => validateNamespace(v), () => validateBucketName(v), () => validateToken("agent key", v), () => new Subjects(v)]) {
          expect(onlyInvalidArgument(f).ok).toBe(true);
        }
      }),
      fuzzOptions(),
    );
  });

  it("accepted namespaces and bucket names hold no separator and no uppercase", () => {
    fc.assert(
      fc.property(nameLike, (x) => {
        const v = x as string;
        if (accepted(() => validateNamespace(v))) expect(v).toMatch(/^[a-z0-9-]+$/);
        if (accepted(() => validateBucketName(v))) expect(v).toMatch(/^[a-z0-9-]+$/);
      }),
      fuzzOptions(),
    );
  });

  it("a bucket or stream name splits back into its one namespace, role and bucket", () => {
    fc.assert(
      fc.property(wordy, fc.option(wordy, { nil: undefined }), (ns, bucket) => {
        if (!accepted(() => new Subjects(ns))) return;
        if (bucket !== undefined && !accepted(() => validateBucketName(bucket))) return;
        for (const [name, meaning] of namesOf(ns, bucket)) {
          const parts = name.replace(/^KV_/, "").split("_");
          const [prefix, nsPart, role, named, ...rest] = parts;
          expect(rest, meaning).toEqual([]);
          expect(prefix === "troupe" || prefix === "TROUPE", meaning).toBe(true);
          expect(prefix === "TROUPE" ? nsPart : nsPart?.toUpperCase(), meaning).toBe(ns.toUpperCase());
          expect(named, meaning).toBe(meaning.includes("memory bucket") ? bucket : undefined);
          expect(role, meaning).toMatch(/^(state|registry|nodes|mem|MBOX|DLQ)$/);
        }
      }),
      fuzzOptions(),
    );
  });

  it("two different (namespace, bucket) pairs never share a bucket or stream name", () => {
    const pair = fc.tuple(wordy, fc.option(wordy, { nil: undefined }));
    // Pairs built to meet if "_" were allowed: (a, b_state) and (a_mem_b, c).
    const shifted = fc.tuple(wordy, wordy, fc.constantFrom("state", "registry", "nodes", "mem"), fc.option(wordy, { nil: undefined }));
    const pairs = fc.oneof(
      fc.tuple(pair, pair),
      shifted.map(([a, b, role, c]) => [[a, `${b}_${role}`], [`${a}_mem_${b}`, c]] as [[string, string | undefined], [string, string | undefined]]),
    );
    fc.assert(
      fc.property(pairs, ([[ns1, b1], [ns2, b2]]) => {
        if (!accepted(() => new Subjects(ns1)) || !accepted(() => new Subjects(ns2))) return;
        if (b1 !== undefined && !accepted(() => validateBucketName(b1))) return;
        if (b2 !== undefined && !accepted(() => validateBucketName(b2))) return;
        const seen = new Map<string, string>();
        for (const [name, meaning] of [...namesOf(ns1, b1), ...namesOf(ns2, b2)]) {
          const before = seen.get(name);
          if (before !== undefined && before !== meaning) throw new Error(`${name} names both ${before} and ${meaning}`);
          seen.set(name, meaning);
        }
      }),
      fuzzOptions({ numRuns: 1000 }),
    );
  });

  it("every subject built from the longest namespace and tokens fits the subject limit", () => {
    const token = fc.string({ unit: fc.constantFrom(..."aZ0_-"), minLength: 1, maxLength: 128 });
    const ns = fc.string({ unit: fc.constantFrom(..."a0-"), minLength: 0, maxLength: 63 }).map((t) => `a${t}`);
    fc.assert(
      fc.property(ns, token, token, token, (n, type, key, node) => {
        const s = new Subjects(n);
        for (const subject of [
          s.agent(type, key),
          s.mailbox(type, key),
          s.poolSpawn(type),
          s.poolActivate(type),
          s.poolQueue(type),
          s.topic(key),
          s.nodeControl(node, type),
          s.nodeInfo(node),
          s.event("child_restarted", type, key),
          s.deadLetter(type, key),
          // The KV client's own requests wrap a key's subject: a direct get of agent state.
          `$JS.API.DIRECT.GET.KV_${s.stateBucket()}.$KV.${s.stateBucket()}.${s.stateKey(type, key)}`,
        ]) {
          expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
        }
      }),
      fuzzOptions({ examples: [["a".repeat(64), "t".repeat(128), "k".repeat(128), "n".repeat(128)]] }),
    );
  });
});
