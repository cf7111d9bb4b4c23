import { printable } from "@hyperv-kvp/cli-kit";
import { LOG_LEVELS, type LogLevel } from "./config.js";

/**
 * The agent's log: one line per message, on stderr, which journald collects under systemd.
 * Every message is escaped with cli-kit's `printable` (`\n`, `\r`, `\u001b`…, `\\`).
 */
export interface Logger {
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /**
   * A host value as logs may show it: itself in double quotes when the config allows
   * (`log.values`; escaped like every message), else `<N chars>`; user data carries secrets
   * and logs travel further than state files.
   */
  value(text: string): string;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly stream: { write(text: string): unknown };
  readonly level: LogLevel;
  readonly logValues: boolean;
  /**
   * Prefix lines with the sd-daemon priority (`<3>` error … `<7>` debug) that journald turns
   * into the entry's priority, instead of `kvp-agent: level:`. Default: when
   * `$JOURNAL_STREAM` says stderr goes to the journal.
   */
  readonly journald: boolean;
}

/** sd-daemon priorities (syslog levels) of our levels. */
const PRIORITY: Record<LogLevel, number> = { error: 3, warning: 4, info: 6, debug: 7 };

/** True when systemd connected stderr to the journal (it sets JOURNAL_STREAM for that). */
export function underJournald(env: Record<string, string | undefined>): boolean {
  return (env["JOURNAL_STREAM"] ?? "") !== "";
}

/** A logger writing to `stream`; messages below `level` are dropped. */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const line = (level: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(level) > threshold) return;
    // Messages carry host keys, decode errors quoting host data and hooks' output: escaped
    // here, once for every message, so a newline cannot forge an entry and an ESC sequence
    // or CR cannot act on the terminal that shows the log.
    const text = printable(message);
    options.stream.write(options.journald ? `<${PRIORITY[level]}>${text}\n` : `kvp-agent: ${level}: ${text}\n`);
  };
  return {
    error: line("error"),
    warning: line("warning"),
    info: line("info"),
    debug: line("debug"),
    value: (text) => (options.logValues ? `"${text}"` : `<${text.length} chars>`),
  };
}
