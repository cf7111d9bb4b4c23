import { fstatSync, writeSync } from "node:fs";
import { Command, CommanderError } from "@commander-js/extra-typings";
import { KIT_EXIT } from "./cli-error.js";
import { commandsToDefine } from "./commands-to-define.js";
import { type DurationSpec, parseDuration } from "./duration.js";
import { type CliFailure, type ErrorRule, failureOf } from "./error-table.js";
import { type Progress, startProgress } from "./progress.js";
import { type CliStream, endQuietlyOnBrokenPipe } from "./streams.js";

/** The environment variable that adds a stack trace to an internal error's one line. */
export const DEBUG_ENV = "KVP_DEBUG";

/** Where SIGINT and SIGTERM come from: `process`, or a test's emitter. */
export interface SignalSource {
  on(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
  off(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown;
}

/** What the run loop touches outside itself; tests pass captures. */
export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where SIGINT/SIGTERM are heard; default `process`. */
  readonly signals?: SignalSource;
  /**
   * Stops the command instead of SIGINT/SIGTERM: when given, the commands get this signal and
   * the process's signals are left alone (a test, or a program embedding the CLI).
   */
  readonly signal?: AbortSignal;
}

/** What the run loop gives each command, beside the app's own context. */
export interface CliRun {
  readonly tool: string;
  readonly io: CliIo;
  /**
   * Aborted by SIGINT or SIGTERM. The signals are listened to from the first read of this
   * property until the command ends, so a command that never looks keeps Node's default
   * (Ctrl-C ends it at once).
   */
  readonly signal: AbortSignal;
  /** Prints `data` as indented JSON and a newline on stdout. */
  json(data: unknown): void;
  /** Prints `tool: note: text` on stderr. */
  note(text: string): void;
  /** Prints `tool: warning: text` on stderr. */
  warn(text: string): void;
  /** The exit code when the command returns normally (a check that found problems). */
  setExitCode(code: number): void;
  /** {@link parseDuration}, its deprecation note (a number without a unit) printed on stderr. */
  duration(text: string, spec: DurationSpec): number;
  /** A progress line for a long wait, on stderr when it is a terminal ({@link startProgress}). */
  progress(text: string): Progress;
}

/**
 * A command module: its name and aliases, and what it adds to the command runCli makes with
 * them (description, arguments, options, subcommands, action). The names come first so that a
 * run defines only the command it runs (see {@link commandsToDefine}).
 */
export interface CliCommand<C> {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly define: (command: Command, context: C) => unknown;
}

/** A program: its name, version, global options, commands and error table. */
export interface CliSpec<C> {
  /** The program's name: the prefix of every line it prints on stderr. */
  readonly tool: string;
  /** What `--version` prints. */
  readonly version: string;
  readonly description: string;
  /** Adds global options and help text to the program. */
  readonly configure?: (program: Command) => void;
  /** The context the commands get, built once per run. */
  readonly context: (run: CliRun, program: Command) => C;
  /** The command table, in help order. */
  readonly commands: readonly CliCommand<C>[];
  /** The app's error table: its error classes and codes to exit codes (the kit's CliError is known). */
  readonly errors?: readonly ErrorRule[];
}

const NOT_ERRORS = new Set(["commander.helpDisplayed", "commander.help", "commander.version"]);

/**
 * Runs a program over `argv` (as `process.argv`: node, script, args…) and returns its exit
 * code; never throws. Failures are reported in one place, the same way for every CLI:
 * - commander's argument errors: its message on stderr, exit 2; help and version exit 0;
 * - an error a row of `spec.errors` (or the kit's {@link CliError}) knows: `tool: message`
 *   on stderr (and `(see: hint)`), that row's exit code;
 * - anything else is a bug: `tool: internal error: Name: message`, exit 3, with the stack
 *   only when $KVP_DEBUG is set;
 * - when the command line has `--json`, every failure also prints ONE line on stdout:
 *   `{"error":{"code":"…","message":"…","exitCode":N,…details}}` (one line, so it also ends
 *   an NDJSON stream cleanly).
 */
export async function runCli<C>(spec: CliSpec<C>, argv: readonly string[], io: CliIo): Promise<number> {
  const { tool } = spec;
  let exitCode: number = KIT_EXIT.ok;
  const stop = io.signal ? { signal: () => io.signal!, release() {} } : stopOnSignals(io.signals);
  const program = new Command(tool)
    .description(spec.description)
    .version(spec.version, "-V, --version", "print the version")
    .exitOverride()
    .showHelpAfterError(`(run ${tool} --help for usage)`)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // commander would ask process.stdout itself, creating the stream (see processStream).
      // No width off a terminal: commander then wraps at 80, as it does by itself (its types
      // say number; its own default returns undefined the same way).
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) as number,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) as number,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
      outputError: (s, write) => write(s.startsWith("error: ") ? `${tool}: ${s.slice(7)}` : s),
    });
  spec.configure?.(program);
  const run: CliRun = {
    tool,
    io,
    get signal() {
      return stop.signal();
    },
    json: (data) => io.stdout.write(`${JSON.stringify(data, null, 2)}\n`),
    note: (text) => io.stderr.write(`${tool}: note: ${text}\n`),
    warn: (text) => io.stderr.write(`${tool}: warning: ${text}\n`),
    setExitCode: (code) => {
      exitCode = code;
    },
    duration: (text, durationSpec) => {
      const parsed = parseDuration(text, durationSpec);
      if (parsed.deprecation !== undefined) io.stderr.write(`${tool}: note: ${parsed.deprecation}\n`);
      return parsed.ms;
    },
    progress: (text) => startProgress(io.stderr, `${tool}: `, text),
  };
  const context = spec.context(run, program);
  for (const command of commandsToDefine(spec.commands, argv.slice(2), program.options)) {
    const made = program.command(command.name);
    if (command.aliases !== undefined) made.aliases(command.aliases);
    command.define(made, context);
  }
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return report(error, spec, io, asksForJson(argv));
  } finally {
    stop.release();
  }
}

/** True when the command line has `--json` before any `--` (its values are not options). */
function asksForJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}

function report<C>(error: unknown, spec: CliSpec<C>, io: CliIo, json: boolean): number {
  let failure: CliFailure;
  if (error instanceof CommanderError) {
    if (NOT_ERRORS.has(error.code)) return KIT_EXIT.ok;
    // commander has printed the message (and the help hint) already.
    failure = { code: "usage", message: error.message.replace(/^error: /, ""), exitCode: KIT_EXIT.usage };
  } else {
    failure = failureOf(error, spec.errors ?? []);
    io.stderr.write(`${spec.tool}: ${failure.message}\n`);
    if (failure.hint !== undefined) io.stderr.write(`(see: ${failure.hint})\n`);
    if (failure.code === "internal" && io.env[DEBUG_ENV] && error instanceof Error && error.stack)
      io.stderr.write(`${error.stack}\n`);
  }
  if (json) {
    const { code, message, exitCode, details } = failure;
    io.stdout.write(`${JSON.stringify({ error: { ...details, code, message, exitCode } })}\n`);
  }
  return failure.exitCode;
}

/** SIGINT/SIGTERM as an AbortSignal, listened to only once someone asks for the signal. */
function stopOnSignals(source: SignalSource | undefined) {
  let controller: AbortController | undefined;
  const listening = source ?? process;
  const abort = () => controller?.abort();
  return {
    signal(): AbortSignal {
      if (controller === undefined) {
        controller = new AbortController();
        listening.on("SIGINT", abort);
        listening.on("SIGTERM", abort);
      }
      return controller.signal;
    },
    release() {
      if (controller === undefined) return;
      listening.off("SIGINT", abort);
      listening.off("SIGTERM", abort);
    },
  };
}

/** How {@link launch} runs a program. */
export interface LaunchOptions {
  /**
   * Exit as soon as the program is done, even with handles left open (a service whose hook
   * left a pipe must not outlive systemd's stop timeout). Default: let Node exit by itself.
   */
  readonly exitWhenDone?: boolean;
}

/**
 * The launcher of a CLI's bin: runs `main` on the real process, ends quietly on a broken
 * pipe, and sets the exit code. `main` is the app's `runCli` call.
 */
export function launch(main: (argv: readonly string[]) => Promise<number>, options: LaunchOptions = {}): void {
  const end = () => process.exit(process.exitCode ?? 0);
  whenCreated("stdout", (stream) => endQuietlyOnBrokenPipe([stream], end));
  whenCreated("stderr", (stream) => endQuietlyOnBrokenPipe([stream], end));
  void main(process.argv).then((code) => {
    process.exitCode = code;
    if (options.exitWhenDone) process.exit(code);
  });
}

/**
 * Runs `use` on process.stdout or process.stderr when something first reads it, rather than
 * reading it now. Node creates each stream on first read, and that costs milliseconds: a pipe
 * loads node:net, a file the stream modules. `kvp-host --help` never writes to stderr, and
 * would pay for it on every run; so the launcher guards each stream as it is created, by
 * whoever creates it (Node's own warnings included).
 */
function whenCreated(name: "stdout" | "stderr", use: (stream: NodeJS.WriteStream) => void): void {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const create = own?.get;
  if (own === undefined || create === undefined || own.configurable !== true) {
    use(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable ?? true,
    get() {
      Object.defineProperty(process, name, own);
      const stream = create.call(process) as NodeJS.WriteStream;
      use(stream);
      return stream;
    },
  });
}

/**
 * process.stdout or process.stderr as a {@link CliStream}. On Linux a write goes straight to
 * the descriptor (write(2), as Node's own stdio does there: synchronously), so no stream is
 * created at all: a stream on a pipe loads node:net, on a file the stream modules, which cost
 * a one-shot command like `value=$(kvp-pool get KEY)` milliseconds for one line. A broken pipe
 * ends the program quietly, as the stream's guard would (see launch); a descriptor that would
 * block (left non-blocking by whoever opened it) hands this write and the later ones to the
 * stream, which knows how to wait. On Windows, where Node writes pipes asynchronously, the
 * stream (created on first use, see whenCreated) writes everything, so nothing is reordered.
 */
function processStream(name: "stdout" | "stderr"): CliStream {
  const fd = name === "stdout" ? 1 : 2;
  let direct = process.platform !== "win32";
  return {
    write: (text) => {
      if (direct) {
        const bytes = Buffer.from(text, "utf8");
        let done = 0;
        try {
          while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "EPIPE") process.exit(process.exitCode ?? 0);
          direct = false;
          return process[name].write(bytes.subarray(done));
        }
      }
      return process[name].write(text);
    },
    // Only a descriptor that may be a terminal gets its stream asked (and created).
    get isTTY() {
      return mayBeTerminal(fd) && process[name].isTTY === true;
    },
    get columns() {
      return process[name].columns;
    },
  };
}

/** Linux's major device number of /dev/null, /dev/zero, /dev/full, /dev/urandom (`mem`, devices.txt). */
const LINUX_MEMORY_DEVICES = 1;

/**
 * False when `fd` cannot be a terminal, found with one fstat: a terminal is a character
 * device, and on Linux never one of the memory devices. Output sent to /dev/null (a script
 * that discards it, `stdio: "ignore"`) is a character device too, and asking its stream would
 * create one: the stream modules, milliseconds, for a question whose answer is no.
 */
function mayBeTerminal(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice()) return false;
    return !(process.platform === "linux" && linuxMajor(stat.rdev) === LINUX_MEMORY_DEVICES);
  } catch {
    return false;
  }
}

/** The major number of a Linux device number, as glibc's gnu_dev_major reads it (bits 8-19 and 44-63). */
function linuxMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

/** The real process's streams (each created on first use), environment and signals. */
export function processIo(): CliIo {
  return { stdout: processStream("stdout"), stderr: processStream("stderr"), env: process.env, signals: process };
}
