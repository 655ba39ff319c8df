// Waiting for Ctrl-C (SIGINT), SIGTERM or SIGHUP in the long-running commands:
// `node start`, `dev`, `kv watch`, `demo`.

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Resolves with the first SIGINT, SIGTERM or SIGHUP. A second signal while the
 * command is still winding down exits at once with 130, after `onSecond` (if
 * given) has said what the interrupted wind-down may leave behind.
 */
export function untilSignal(onSecond?: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      for (const s of SIGNALS) {
        process.off(s, onSignal);
        process.once(s, () => {
          onSecond?.();
          process.exit(130);
        });
      }
      resolve(signal);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}
