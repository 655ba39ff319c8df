// Test support: finding the Chromium that browser tests drive, with one rule
// for every such test. CHROMIUM_BIN, else Debian's /usr/bin/chromium, else
// `chromium` or `chromium-browser` on PATH. Without one a browser test is
// skipped with a message saying so, unless TROUPE_REQUIRE_BROWSER=1 (CI sets
// it), which makes a missing browser a failure; TROUPE_SKIP_BROWSER=1 skips it
// even when a browser is present.

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** How to get a browser when none is found. */
export const CHROMIUM_INSTALL_HINT =
  "Install it (`apt-get install -y --no-install-recommends chromium`) or point CHROMIUM_BIN at a Chromium or Chrome binary.";

/** The first executable Chromium: CHROMIUM_BIN, /usr/bin/chromium, then PATH; null when there is none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_BIN, "/usr/bin/chromium"];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir) candidates.push(join(dir, "chromium"), join(dir, "chromium-browser"));
  }
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

/** Whether a browser test runs, and with which binary. */
export interface BrowserAvailability {
  /** The Chromium binary; null when none was found (or TROUPE_SKIP_BROWSER=1). */
  bin: string | null;
  /** Skip the browser tests: no browser and none required. */
  skip: boolean;
  /** The binary, or an error saying that one is required and missing (call it in beforeAll). */
  require(): string;
}

/**
 * Apply the browser rule for the test file `file` (named in the skip message).
 *
 * @example
 * const browser = browserFor("cli/dashboard/dashboard.int.test.ts");
 * describe.skipIf(browser.skip)("in a browser", () => { beforeAll(() => { bin = browser.require(); }); ... });
 */
export function browserFor(file: string, what = "the browser test"): BrowserAvailability {
  const skipped = process.env.TROUPE_SKIP_BROWSER === "1";
  const required = process.env.TROUPE_REQUIRE_BROWSER === "1";
  const bin = skipped ? null : findChromium();
  const skip = bin === null && !required;
  if (skip) {
    const why = skipped ? "TROUPE_SKIP_BROWSER=1 is set" : `no Chromium was found. ${CHROMIUM_INSTALL_HINT}`;
    console.warn(`${file}: skipping ${what}: ${why}`);
  }
  return {
    bin,
    skip,
    require: () => {
      if (bin === null) throw new Error(`TROUPE_REQUIRE_BROWSER=1 but Chromium is not installed, so ${what} cannot run. ${CHROMIUM_INSTALL_HINT}`);
      return bin;
    },
  };
}
