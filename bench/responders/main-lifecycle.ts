// What every responder process does around its work: print one JSON ready
// line, and leave (closing what it opened) when told to (SIGTERM, SIGINT) or
// when its parent goes away (stdin closes), within 5 s or by exiting anyway.

/**
 * Run `start`, print `{"ready":<name>,"pid":N}`, and call the returned close
 * function on the way out. A failed start prints one line on stderr and exits 1.
 */
export async function serveUntilParentLeaves(name: string, start: () => Promise<() => Promise<unknown>>): Promise<void> {
  let close: (() => Promise<unknown>) | undefined;
  let leaving = false;
  const leave = async (code: number): Promise<void> => {
    if (leaving) return;
    leaving = true;
    const timer = setTimeout(() => process.exit(code), 5_000);
    try {
      await close?.();
    } catch {
      // leaving anyway
    } finally {
      clearTimeout(timer);
      process.exit(code);
    }
  };
  process.on("SIGTERM", () => void leave(0));
  process.on("SIGINT", () => void leave(0));
  process.stdin.on("end", () => void leave(0));
  process.stdin.on("error", () => void leave(0));
  process.stdin.resume();
  try {
    close = await start();
    process.stdout.write(`${JSON.stringify({ ready: name, pid: process.pid })}\n`);
  } catch (err) {
    process.stderr.write(`${name} did not start: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
    process.exit(1);
  }
}
