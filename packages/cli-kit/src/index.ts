export { CliError, type CliErrorCode, KIT_EXIT, isCliError } from "./cli-error.js";
export { type CliFailure, type ErrorRule, cliErrorRule, errorsByCode, failureOf } from "./error-table.js";
export {
  type DurationSpec,
  type DurationUnit,
  type ParsedDuration,
  formatDuration,
  parseDuration,
} from "./duration.js";
export { printable, printableProse } from "./printable.js";
export { type Progress, startProgress } from "./progress.js";
export {
  type Pair,
  type PairsSource,
  decodeText,
  parsePairArgs,
  parsePairs,
  readPairsInput,
} from "./read-pairs.js";
export {
  type CliCommand,
  type CliIo,
  type CliRun,
  type CliSpec,
  DEBUG_ENV,
  type LaunchOptions,
  type SignalSource,
  launch,
  processIo,
  runCli,
} from "./run-cli.js";
export { type CliStream, type ErrorEmitter, endQuietlyOnBrokenPipe } from "./streams.js";
