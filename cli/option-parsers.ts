// Parsers for numeric options; a bad value is a usage error reported by commander.

import { InvalidArgumentError } from "commander";

/** `--timeout 2000`: a whole number above zero. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError("expected a whole number above 0.");
  }
  return n;
}

/** `--seed 42`: any whole number. */
export function integer(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a whole number.");
  return n;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--expires 30d`: a duration in seconds, from a whole number and a unit (s, m, h, d). */
export function durationSeconds(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  const n = m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a whole number and a unit, like 90s, 30m, 12h or 30d.");
  return n;
}

const MS_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 5m`: a duration in ms, from a whole number and a unit (ms, s, m, h, d). */
export function durationMs(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  const n = m ? Number(m[1]) * MS_UNITS[m[2]!]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a whole number and a unit, like 30s, 5m, 2h or 1d.");
  return n;
}

/** `--types a,b`: a comma-separated list, without empty entries. */
export function list(value: string): string[] {
  const items = value.split(",").map((v) => v.trim());
  if (items.some((v) => v === "")) throw new InvalidArgumentError("expected a comma-separated list without empty entries.");
  return items;
}
