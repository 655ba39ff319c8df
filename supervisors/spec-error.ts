// The one failure the pure supervision rules report: a spec (or a child added
// to a supervisor's state) that breaks a rule, naming the field, like OTP's
// `{error, invalid_intensity}`. The runtime turns it into its typed
// InvalidConfigError at the boundary; nothing here knows about the runtime.

/** A field of a supervisor or child spec that breaks a rule. */
export class SpecError extends Error {
  constructor(
    /** The field, as the user wrote it: `intensity`, `children[1].restart`. */
    readonly field: string,
    /** What is wrong with it. */
    readonly problem: string,
  ) {
    super(`invalid ${field}: ${problem}`);
    this.name = "SpecError";
  }
}
