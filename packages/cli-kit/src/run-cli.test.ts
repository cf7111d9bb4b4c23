import { EventEmitter } from "node:events";
import type { Command } from "@commander-js/extra-typings";
import { describe, expect, it } from "vitest";
import { CliError } from "./cli-error.js";
import { errorsByCode } from "./error-table.js";
import { type CliIo, type CliRun, type CliSpec, runCli } from "./run-cli.js";

class StoreError extends Error {
  constructor(
    readonly code: "locked" | "missing",
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
const isStoreError = (error: unknown): error is StoreError => error instanceof StoreError;

interface Ctx {
  readonly run: CliRun;
}

/** A small program with one command per way a command can end. */
function spec(action: (run: CliRun, opts: { json?: true }) => Promise<void> | void): CliSpec<Ctx> {
  return {
    tool: "demo",
    version: "1.2.3",
    description: "a demo",
    context: (run) => ({ run }),
    commands: [
      {
        name: "go",
        aliases: ["run"],
        define: (command, ctx) =>
          command
            .description("do it")
            .option("--json", "JSON")
            .option("--count <n>", "how many")
            .action((opts) => action(ctx.run, opts)),
      },
    ],
    errors: [errorsByCode(isStoreError, { missing: 1 }, 3)],
  };
}

async function run(
  args: string[],
  action: Parameters<typeof spec>[0] = () => {},
  extra: Partial<CliIo> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    signals: new EventEmitter(),
    ...extra,
  };
  const code = await runCli(spec(action), ["node", "demo", ...args], io);
  return { code, stdout, stderr };
}

describe("runCli", () => {
  it("runs the command and exits 0, or with the code the command set", async () => {
    expect(await run(["go"], (r) => void r.io.stdout.write("done\n"))).toEqual({
      code: 0,
      stdout: "done\n",
      stderr: "",
    });
    expect((await run(["go"], (r) => r.setExitCode(1))).code).toBe(1);
  });

  it("knows a command by its alias, and the help shows both names", async () => {
    expect((await run(["run"], (r) => void r.io.stdout.write("ran\n"))).stdout).toBe("ran\n");
    expect((await run(["--help"])).stdout).toMatch(/go\|run/);
  });

  it("defines only the command it runs, and every command for help or a misspelt command", async () => {
    const defined: string[] = [];
    const command = (name: string) => ({
      name,
      define: (made: Command) => {
        defined.push(name);
        made.action(() => {});
      },
    });
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} };
    const program: CliSpec<Ctx> = {
      tool: "demo",
      version: "1.2.3",
      description: "a demo",
      context: (run) => ({ run }),
      configure: (p) => p.option("--dir <dir>", "a directory"),
      commands: [command("get"), command("set"), command("list")],
    };
    const definedFor = async (args: string[]) => {
      defined.length = 0;
      await runCli(program, ["node", "demo", ...args], io);
      return [...defined];
    };
    expect(await definedFor(["--dir", "set", "list"])).toEqual(["list"]);
    expect(await definedFor(["get"])).toEqual(["get"]);
    expect(await definedFor(["--help"])).toEqual(["get", "set", "list"]);
    expect(await definedFor(["gte"])).toEqual(["get", "set", "list"]);
  });

  it("prints help and the version with exit 0", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: demo /);
    expect(await run(["--version"])).toEqual({ code: 0, stdout: "1.2.3\n", stderr: "" });
    expect((await run(["-V"])).stdout).toBe("1.2.3\n");
  });

  it("reports argument errors with the tool's name and exit 2", async () => {
    const unknown = await run(["go", "--nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("demo: unknown option '--nope'\n(run demo --help for usage)\n");
    expect((await run(["frobnicate"])).code).toBe(2);
  });

  it("maps the kit's CliError: usage exit 2 with its hint, not-found and problems exit 1", async () => {
    const usage = await run(["go"], () => {
      throw new CliError("usage", "missing KEY", "demo go --help");
    });
    expect(usage).toEqual({ code: 2, stdout: "", stderr: "demo: missing KEY\n(see: demo go --help)\n" });
    for (const code of ["not-found", "problems"] as const) {
      const result = await run(["go"], () => {
        throw new CliError(code, "nothing there");
      });
      expect(result).toEqual({ code: 1, stdout: "", stderr: "demo: nothing there\n" });
    }
  });

  it("maps the app's error table by class and code", async () => {
    const missing = await run(["go"], () => {
      throw new StoreError("missing", "no store");
    });
    expect(missing).toEqual({ code: 1, stdout: "", stderr: "demo: no store\n" });
    expect(
      (
        await run(["go"], () => {
          throw new StoreError("locked", "held");
        })
      ).code,
    ).toBe(3);
  });

  it("reports an unexpected throw as one internal-error line, exit 3, a stack only with KVP_DEBUG", async () => {
    const bug = () => {
      throw new RangeError("boom");
    };
    expect(await run(["go"], bug)).toEqual({ code: 3, stdout: "", stderr: "demo: internal error: RangeError: boom\n" });
    const debug = await run(["go"], bug, { env: { KVP_DEBUG: "1" } });
    expect(debug.stderr).toMatch(/^demo: internal error: RangeError: boom\nRangeError: boom\n {4}at /);
  });

  describe("with --json, every failure is one error object on stdout", () => {
    const parse = (stdout: string) => {
      expect(stdout.endsWith("\n")).toBe(true);
      expect(stdout.trimEnd().split("\n")).toHaveLength(1);
      return JSON.parse(stdout) as unknown;
    };

    it("for the kit's and the app's errors, with details", async () => {
      const notFound = await run(["go", "--json"], () => {
        throw new CliError("not-found", "no key", undefined, { key: "k" });
      });
      expect(parse(notFound.stdout)).toEqual({
        error: { key: "k", code: "not-found", message: "no key", exitCode: 1 },
      });
      expect(notFound.stderr).toBe("demo: no key\n");
      const locked = await run(["go", "--json"], () => {
        throw new StoreError("locked", "held", "demo --help", { holder: 42 });
      });
      expect(parse(locked.stdout)).toEqual({ error: { holder: 42, code: "locked", message: "held", exitCode: 3 } });
      expect(locked.stderr).toBe("demo: held\n(see: demo --help)\n");
    });

    it("for argument errors and bugs", async () => {
      const usage = await run(["go", "--json", "--count"]);
      expect(usage.code).toBe(2);
      expect(parse(usage.stdout)).toEqual({
        error: { code: "usage", message: "option '--count <n>' argument missing", exitCode: 2 },
      });
      const bug = await run(["go", "--json"], () => {
        throw new TypeError("oops");
      });
      expect(parse(bug.stdout)).toEqual({
        error: { code: "internal", message: "internal error: TypeError: oops", exitCode: 3 },
      });
    });

    it("after what the command printed, as the last line of an NDJSON stream", async () => {
      const streamed = await run(["go", "--json"], (r) => {
        r.io.stdout.write('{"n":1}\n');
        throw new StoreError("missing", "gone");
      });
      const lines = streamed.stdout.trimEnd().split("\n");
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        { n: 1 },
        { error: { code: "missing", message: "gone", exitCode: 1 } },
      ]);
    });

    it("but not without --json, nor for a --json after --", async () => {
      const fail = () => {
        throw new CliError("not-found", "x");
      };
      expect((await run(["go"], fail)).stdout).toBe("");
      expect((await run(["go", "--", "--json"], fail)).stdout).toBe("");
    });
  });

  describe("signals", () => {
    it("SIGINT and SIGTERM abort the signal a command gets; the listeners go when it ends", async () => {
      for (const name of ["SIGINT", "SIGTERM"] as const) {
        const signals = new EventEmitter();
        let abortedBy: unknown;
        const result = await run(
          ["go"],
          async (r) => {
            const stopped = new Promise((resolve) => r.signal.addEventListener("abort", resolve, { once: true }));
            signals.emit(name);
            await stopped;
            abortedBy = r.signal.aborted;
          },
          { signals },
        );
        expect(result.code).toBe(0);
        expect(abortedBy).toBe(true);
        expect(signals.listenerCount("SIGINT") + signals.listenerCount("SIGTERM")).toBe(0);
      }
    });

    it("gives commands the signal the caller passes instead, and leaves the process's signals alone", async () => {
      const signals = new EventEmitter();
      const controller = new AbortController();
      let given: AbortSignal | undefined;
      await run(
        ["go"],
        (r) => {
          given = r.signal;
        },
        { signals, signal: controller.signal },
      );
      expect(given).toBe(controller.signal);
      expect(signals.listenerCount("SIGINT")).toBe(0);
    });

    it("listens only when a command asks for the signal, so Ctrl-C keeps ending other commands", async () => {
      const signals = new EventEmitter();
      let listening = -1;
      await run(
        ["go"],
        () => {
          listening = signals.listenerCount("SIGINT");
        },
        { signals },
      );
      expect(listening).toBe(0);
    });
  });

  it("prints notes, warnings and durations' deprecation notes on stderr", async () => {
    let ms = 0;
    const result = await run(["go"], (r) => {
      r.note("a note");
      r.warn("careful");
      ms = r.duration("5", { option: "--timeout", bareUnit: "s" });
    });
    expect(ms).toBe(5000);
    expect(result.stderr).toBe(
      "demo: note: a note\ndemo: warning: careful\ndemo: note: --timeout 5 without a unit is read as seconds; write 5s (a number without a unit will be refused in a later release)\n",
    );
  });
});
