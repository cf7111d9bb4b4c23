// The names the host chooses (host.env, decoded/KEY.env) and the environment variables this
// repository's own programs, launchers and scripts read must never meet. The agent writes
// only names that pass shellNameProblem, which wants a lower-case letter; so every variable
// read here must have none. This scans the sources for what they read, so a new variable that
// the host could set fails here rather than in a root shell.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_ENV_PREFIX, shellNameProblem } from "./env-names.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Reads of an environment variable by name in TypeScript, JavaScript and C sources. */
const SOURCE_READS = [
  /\bprocess\.env\.([A-Za-z_][A-Za-z0-9_]*)/g,
  // process.env["X"], env["X"], options.env?.["X"]
  /\benv\??\.?\[\s*["'`]([^"'`]+)["'`]\s*\]/g,
  // commander's Option#env("X")
  /\.env\(\s*["'`]([^"'`]+)["'`]/g,
  // names kept in constants, then read as process.env[NAME_ENV]
  /\b[A-Z_]*_ENV\s*=\s*["'`]([^"'`]+)["'`]/g,
  /\ballowMissingEnv:\s*["'`]([^"'`]+)["'`]/g,
  /\bgetenv\(\s*"([^"]+)"/g,
];

/** Where programs, launchers and scripts live: the sources, the packaging, the scripts. */
const TOPS = ["apps", "packages", "scripts"];

/** What a file is, by its name or its first line: a program's source, a shell script, or neither. */
function kindOf(file: string, text: string): "source" | "shell" | undefined {
  if (/\.(ts|mts|cts|js|mjs|cjs|c)$/.test(file)) return "source";
  if (/\.(sh|bash)$/.test(file)) return "shell";
  const first = text.slice(0, text.indexOf("\n") + 1);
  if (/^#!.*\bnode\b/.test(first)) return "source";
  if (/^#!.*\b(sh|bash|dash)\b/.test(first)) return "shell";
  return undefined;
}

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Variable name → the files that read it. */
function toolkitReads(): Map<string, Set<string>> {
  const reads = new Map<string, Set<string>>();
  const note = (name: string, file: string) => {
    const set = reads.get(name) ?? new Set<string>();
    set.add(relative(ROOT, file));
    reads.set(name, set);
  };
  for (const top of TOPS) {
    for (const file of files(join(ROOT, top))) {
      const text = readFileSync(file, "utf8");
      const kind = kindOf(file, text);
      if (kind === "source") {
        for (const pattern of SOURCE_READS) for (const m of text.matchAll(pattern)) note(m[1]!, file);
      } else if (kind === "shell") {
        // Comments, then single-quoted text, expand nothing (dpkg-query's '${Version}' is a
        // format, not a read).
        const code = text.replace(/(^|\s)#.*$/gm, "$1").replace(/'[^']*'/g, "''");
        for (const m of code.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
          const name = m[1]!;
          // A name the script assigns (or loops over) is its own variable, not the caller's.
          if (new RegExp(`(^|[\\s;(&|])(${name}=|for ${name} |read (-r )?${name})`, "m").test(code)) continue;
          note(name, file);
        }
      }
    }
  }
  return reads;
}

describe("the toolkit's own environment variables and the names the host chooses are disjoint", () => {
  const reads = toolkitReads();

  it("finds what the programs and launchers read (the scan is not blind)", () => {
    for (const name of [
      "KVP_AGENT_NODE",
      "KVP_POOL_NODE",
      "KVP_POOL_DIR",
      "KVP_DEBUG",
      "KVP_HOST_PASSWORD",
      // the CloudStack hook (a shell script without an extension), a maintainer script
      "KVP_EVENT",
      "DPKG_ROOT",
    ])
      expect([...reads.keys()]).toContain(name);
  });

  it("no variable the repository reads is a name the agent would write into an env file", () => {
    const writable = [...reads]
      .filter(([name]) => shellNameProblem(name) === undefined)
      .map(([name, where]) => `${name} (${[...where].join(", ")})`);
    expect(writable).toEqual([]);
  });

  it("no variable the repository reads is in the default host.env name space", () => {
    expect([...reads.keys()].filter((name) => name.startsWith(DEFAULT_ENV_PREFIX))).toEqual([]);
  });
});
