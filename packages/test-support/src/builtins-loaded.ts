// Which of Node's built-in modules a program loads: start-up tests of the CLI bundles check
// that a command does not load what it does not use (each costs milliseconds on every run).
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What {@link runListingBuiltins} saw. */
export interface BuiltinsRun {
  /** Built-in modules loaded by exit (`process.moduleLoadList`'s `NativeModule` entries). */
  readonly modules: string[];
  /**
   * Node addons (`.node` files) mapped into the process at exit, from /proc/self/maps: what
   * native code it loaded, however it was loaded (require, process.dlopen). Empty off Linux.
   */
  readonly addons: string[];
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How {@link runListingBuiltins} runs the program. */
export interface BuiltinsRunOptions {
  /**
   * Where stdout goes: `file` (default; {@link BuiltinsRun.stdout} holds it) or `null`,
   * /dev/null, as a script that discards the output has it (stdout is then "").
   */
  readonly stdout?: "file" | "null";
}

/**
 * Runs `node --require HOOK script ...args` with a hook that lists the built-ins loaded by
 * exit. stdout goes to a file (or /dev/null) and stderr to a pipe, as in a script that
 * captures errors: a created stderr stream on a pipe loads node:net, which a test can then see.
 */
export function runListingBuiltins(
  script: string,
  args: readonly string[],
  options: BuiltinsRunOptions = {},
): BuiltinsRun {
  const dir = mkdtempSync(join(tmpdir(), "kvp-builtins-"));
  try {
    const hook = join(dir, "list-builtins.cjs");
    const list = join(dir, "builtins.txt");
    const maps = join(dir, "maps.txt");
    writeFileSync(
      hook,
      [
        'process.on("exit", () => {',
        '  const fs = require("node:fs");',
        `  fs.writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n"));`,
        // Read, not copied: procfs files have no size for copyFileSync to copy.
        `  let mapped = ""; try { mapped = fs.readFileSync("/proc/self/maps", "utf8"); } catch {}`,
        `  fs.writeFileSync(${JSON.stringify(maps)}, mapped);`,
        "});",
        "",
      ].join("\n"),
    );
    const out = join(dir, "stdout.txt");
    const toNull = options.stdout === "null";
    const fd = openSync(toNull ? "/dev/null" : out, "w");
    let run: ReturnType<typeof spawnSync>;
    try {
      run = spawnSync(process.execPath, ["--require", hook, script, ...args], {
        stdio: ["ignore", fd, "pipe"],
        encoding: "utf8",
        timeout: 30_000,
      });
    } finally {
      closeSync(fd);
    }
    const modules = readFileSync(list, "utf8")
      .split("\n")
      .filter((m) => m.startsWith("NativeModule "))
      .map((m) => m.slice("NativeModule ".length));
    const addons = [
      ...new Set(
        readFileSync(maps, "utf8")
          .split("\n")
          .map((line) => line.split(/\s+/).slice(5).join(" "))
          .filter((path) => path.endsWith(".node")),
      ),
    ];
    return {
      modules,
      addons,
      status: run.status,
      stdout: toNull ? "" : readFileSync(out, "utf8"),
      stderr: String(run.stderr),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
