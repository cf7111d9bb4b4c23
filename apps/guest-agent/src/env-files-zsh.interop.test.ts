// host.env and decoded/KEY.env sourced by zsh, which gives dozens of lower-case names a
// meaning of its own (some only once a module is loaded). Needs zsh (apt-get install zsh;
// scripts/setup.sh --for-tests installs it).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Tool, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { afterAll, expect, it } from "vitest";
import { validateConfig } from "./config.js";
import { planDecodedEnv } from "./decoded-env.js";
import { decodeValue } from "./decoders.js";
import { ZSH_SPECIAL_NAMES, shellNameProblem } from "./env-names.js";
import { renderEnvFile } from "./state-files.js";

const ZSH: Tool = {
  name: "zsh",
  allowMissingEnv: "KVP_ALLOW_NO_ZSH",
  missing: () => {
    const result = spawnSync("zsh", ["-f", "-c", "exit 0"], { stdio: "ignore" });
    return result.error === undefined && result.status === 0 ? undefined : "zsh not found (apt-get install zsh)";
  },
};

const dir = mkdtempSync(join(tmpdir(), "kvp-agent-zsh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` with `zsh -f -c` in `cwd`, with a small fixed environment and stdin closed. */
function zsh(script: string, args: readonly string[], cwd: string) {
  return spawnSync("zsh", ["-f", "-c", script, "zsh", ...args], {
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin", HOME: cwd },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The environment zsh ends with after `set -a; . file` (no file: before), tracing one command. */
function dumpEnvironment(file: string | undefined, cwd: string): Map<string, string> {
  const source = file === undefined ? "" : `set -a; . "${file}" || exit 9; set +a; `;
  const result = zsh(`${source}set -x; : traced; set +x; /usr/bin/env -0`, [], cwd);
  expect(result.status, result.stderr).toBe(0);
  return new Map(
    result.stdout
      .split("\0")
      .slice(0, -1)
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)] as const),
  );
}

describeNeeding("env files sourced by zsh", [ZSH], () => {
  it("every lower-case parameter zsh treats as special, with every module it has loaded, is refused", () => {
    // Each module loaded (zsh/parameter, zsh/mapfile, zsh/system, zsh/terminfo, zsh/zleparameter…),
    // then every parameter whose type says `special`.
    const script = `
      for d in $module_path; do
        for f in $d/zsh/*.so(N) $d/zsh/*/*.so(N); do
          m=\${f#$d/}; [[ $m == zsh/example.so ]] || zmodload \${m%.so} 2>/dev/null
        done
      done
      for k in \${(k)parameters}; do
        [[ $k == *[a-z]* && \${parameters[$k]} == *special* ]] && print -r -- $k
      done
      exit 0`;
    const result = zsh(script, [], dir);
    expect(result.status, result.stderr).toBe(0);
    const specials = result.stdout.split("\n").filter((k) => k !== "");
    // The scan saw the module parameters, not just the shell's own few.
    expect(specials).toEqual(expect.arrayContaining(["path", "history", "options", "mapfile", "terminfo"]));
    expect(specials.filter((name) => shellNameProblem(name) === undefined)).toEqual([]);
    expect(specials.filter((name) => !ZSH_SPECIAL_NAMES.has(name))).toEqual([]);
  });

  it("a decoded env file of hostile names and values sources whole: nothing runs, every value comes back", () => {
    const cwd = mkdtempSync(join(dir, "decoded-"));
    const fields: Record<string, string> = {
      history: "x",
      options: "x",
      dirstack: "/",
      functions: "x",
      mapfile: "x",
      aliases: "x",
      path: "/tmp/evil",
      prompt: "$(touch pwned-prompt)",
      http_proxy: "http://evil:3128",
      no_proxy: "*",
      eth0ip: "10.1.1.1",
      quote: "it's $(touch pwned-1) `touch pwned-2`",
      quotes: "'''$(touch pwned-3)''",
      lines: "a\nb\r\n'",
      type: "router",
    };
    const plan = planDecodedEnv("userdata", decodeValue("json", JSON.stringify(fields)), "")!;
    expect(plan.variables).toEqual(["eth0ip", "quote", "quotes", "lines", "type"]);
    const file = join(cwd, "userdata.env");
    writeFileSync(file, plan.text!);
    // RC_QUOTES makes '' a quote inside single quotes: the '\'' escapes must still hold.
    for (const options of ["", "setopt rc_quotes; "]) {
      const script = `${options}. "$1" || exit 9; shift; for NAME in "$@"; do printf '%s\\0' "\${(P)NAME}"; done`;
      const result = zsh(script, [file, ...plan.variables], cwd);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout.split("\0").slice(0, -1)).toEqual(plan.variables.map((name) => fields[name]));
    }
    // Exported, the file changes the environment by exactly its planned names.
    const before = dumpEnvironment(undefined, cwd);
    const after = dumpEnvironment(file, cwd);
    const changed = [...after].filter(([name, value]) => before.get(name) !== value).map(([name]) => name);
    expect(changed.sort()).toEqual([...plan.variables].sort());
    for (const mark of ["pwned-1", "pwned-2", "pwned-3", "pwned-prompt"])
      expect(existsSync(join(cwd, mark))).toBe(false);
  });

  it("`set -a; . host.env` of hostile keys under the default prefix assigns nothing outside it and runs nothing", () => {
    const cwd = mkdtempSync(join(dir, "host-"));
    const prefix = validateConfig({}, "default").envPrefix;
    const keys = new Map([
      ["AGENT_NODE", "/bin/rm"],
      ["POOL_DIR", "/tmp/elsewhere"],
      ["PATH", "/tmp/evil"],
      ["LD_PRELOAD", "/tmp/evil.so"],
      ["PS4", "$(touch pwned-ps4)"],
      ["PROMPT4", "$(touch pwned-prompt4)"],
      ["history", "x"],
      ["options", "x"],
      ["path", "/tmp/evil"],
      ["http_proxy", "http://evil"],
      ["role", "web"],
    ]);
    const file = join(cwd, "host.env");
    writeFileSync(file, renderEnvFile(keys, prefix).text);
    const before = dumpEnvironment(undefined, cwd);
    const after = dumpEnvironment(file, cwd);
    const changed = [...after].filter(([name, value]) => before.get(name) !== value).map(([name]) => name);
    for (const name of changed) {
      expect(name.startsWith(prefix), name).toBe(true);
      expect(name, "a name the host chose must have a lower-case letter").toMatch(/[a-z]/);
    }
    expect(changed.sort()).toEqual(
      [...keys.keys()]
        .filter((k) => shellNameProblem(prefix + k) === undefined)
        .map((k) => prefix + k)
        .sort(),
    );
    expect(after.get(`${prefix}role`)).toBe("web");
    expect(existsSync(join(cwd, "pwned-ps4")) || existsSync(join(cwd, "pwned-prompt4"))).toBe(false);
  });
});
