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
