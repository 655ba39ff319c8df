// How a benchmark run shows progress: a cli-progress bar when the output is a
// terminal, plain lines (one per phase, and every quarter) when it is a pipe or CI log.

import cliProgress from "cli-progress";

export interface ProgressDisplay {
  /** A scenario starts. */
  begin(name: string, index: number, total: number): void;
  /** Its progress, 0..1, with an optional phase label. */
  update(fraction: number, label?: string): void;
  /** A log line, shown without breaking the bar. */
  log(line: string): void;
  /** The scenario ended; `status` is a short word ("ok", "failed", ...). */
  end(status: string, seconds: number): void;
  /** The run ended (also on Ctrl-C): releases the terminal. */
  close(): void;
}

/** A bar on a TTY, plain lines otherwise. */
export function createProgressDisplay(out: NodeJS.WritableStream & { isTTY?: boolean }): ProgressDisplay {
  return out.isTTY === true ? new BarDisplay(out) : new LineDisplay(out);
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

class LineDisplay implements ProgressDisplay {
  #out: NodeJS.WritableStream;
  #name = "";
  #label = "";
  #quarter = -1;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  begin(name: string, index: number, total: number): void {
    this.#name = name;
    this.#label = "";
    this.#quarter = 0;
    this.#out.write(`[${index + 1}/${total}] ${name}: starting\n`);
  }

  update(fraction: number, label?: string): void {
    const f = clamp01(fraction);
    const quarter = Math.floor(f * 4);
    const labelChanged = label !== undefined && label !== this.#label;
    if (labelChanged || quarter > this.#quarter) {
      if (label !== undefined) this.#label = label;
      this.#quarter = Math.max(this.#quarter, quarter);
      this.#out.write(`  ${this.#name} ${Math.round(f * 100)}%${this.#label ? ` ${this.#label}` : ""}\n`);
    }
  }

  log(line: string): void {
    this.#out.write(`  ${this.#name}: ${line}\n`);
  }

  end(status: string, seconds: number): void {
    this.#out.write(`  ${this.#name}: ${status} in ${seconds.toFixed(1)} s\n`);
  }

  close(): void {}
}

class BarDisplay implements ProgressDisplay {
  #multi: cliProgress.MultiBar;
  #bar: cliProgress.SingleBar | undefined;
  #name = "";
  #label = "";

  constructor(out: NodeJS.WritableStream) {
    this.#multi = new cliProgress.MultiBar(
      {
        stream: out,
        format: " {name} |{bar}| {percentage}% {label}",
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
        forceRedraw: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  begin(name: string, index: number, total: number): void {
    this.#name = `[${index + 1}/${total}] ${name}`;
    this.#label = "starting";
    this.#bar = this.#multi.create(100, 0, { name: this.#name, label: this.#label });
  }

  update(fraction: number, label?: string): void {
    if (label !== undefined) this.#label = label;
    this.#bar?.update(Math.round(clamp01(fraction) * 100), { name: this.#name, label: this.#label });
  }

  log(line: string): void {
    this.#multi.log(`  ${this.#name}: ${line}\n`);
  }

  end(status: string, seconds: number): void {
    this.#bar?.update(100, { name: this.#name, label: `${status} in ${seconds.toFixed(1)} s` });
    this.#bar?.stop();
    this.#bar = undefined;
  }

  close(): void {
    this.#multi.stop();
  }
}
