/**
 * Errors whose message is meant for the person running the service: one
 * line, naming what was wrong and what to do, printed without a stack trace.
 *
 * @module
 */

/** A configuration value (environment variable or flag) that cannot be used. */
export class ConfigError extends Error {
  /** The variable or flag at fault, e.g. `KAFKA_BROKERS` or `--env-file`. */
  readonly setting: string;

  /**
   * @param setting The variable or flag at fault.
   * @param problem What is wrong and the expected form, e.g. `"abc" is not a number; expected an integer from 1 to 100`.
   */
  constructor(setting: string, problem: string) {
    super(`${setting}: ${problem}`);
    this.name = "ConfigError";
    this.setting = setting;
  }
}
