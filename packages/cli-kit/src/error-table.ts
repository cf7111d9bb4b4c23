import { CliError, KIT_EXIT } from "./cli-error.js";

/** How one failure is reported: the line on stderr, the `--json` object and the exit code. */
export interface CliFailure {
  /** A stable word for scripts (`not-found`, `io`, …): the `--json` error's `code`. */
  readonly code: string;
  readonly message: string;
  readonly exitCode: number;
  /** A help line to run, printed as `(see: …)` under the message. */
  readonly hint?: string;
  /** Structured detail merged into the `--json` error object. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * One row of an app's error table: the failure `error` is, or undefined when the row does not
 * know it (the next row is asked). Rows are asked in order; the kit's own {@link CliError} is
 * known without a row.
 */
export type ErrorRule = (error: unknown) => CliFailure | undefined;

/**
 * A row for an error class with a string `code`: `exitCodes` maps codes to exit codes,
 * `otherwise` is the exit code of the rest. A string `hint` and an object `details` on the
 * error are kept (the `(see: …)` line, the `--json` error's extra fields).
 * @param recognise the class's type guard (e.g. pool-file's `isPoolFileError`).
 * @param prefix put before the message (e.g. "unreadable answer from the host: ").
 */
export function errorsByCode<E extends Error & { readonly code: string }>(
  recognise: (error: unknown) => error is E,
  exitCodes: Readonly<Partial<Record<E["code"], number>>>,
  otherwise: number,
  prefix = "",
): ErrorRule {
  return (error) => {
    if (!recognise(error)) return undefined;
    const exitCode = (exitCodes as Readonly<Record<string, number | undefined>>)[error.code] ?? otherwise;
    const { hint, details } = error as { hint?: unknown; details?: unknown };
    return {
      code: error.code,
      message: `${prefix}${error.message}`,
      exitCode,
      ...(typeof hint === "string" ? { hint } : {}),
      ...(typeof details === "object" && details !== null ? { details: details as Record<string, unknown> } : {}),
    };
  };
}

/** The kit's own row: {@link CliError}. */
export const cliErrorRule: ErrorRule = (error) => {
  if (!(error instanceof CliError)) return undefined;
  return {
    code: error.code,
    message: error.message,
    exitCode: error.code === "usage" ? KIT_EXIT.usage : KIT_EXIT.notFound,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.details === undefined ? {} : { details: error.details }),
  };
};

/**
 * The failure `error` is: the first row of `rules` that knows it (after the kit's own row),
 * else an internal error (exit 3) whose message names the error, never its stack.
 */
export function failureOf(error: unknown, rules: readonly ErrorRule[]): CliFailure {
  for (const rule of [cliErrorRule, ...rules]) {
    const failure = rule(error);
    if (failure) return failure;
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: "internal", message: `internal error: ${what}`, exitCode: KIT_EXIT.internal };
}
