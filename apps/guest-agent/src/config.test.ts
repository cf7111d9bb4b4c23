import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { thrown } from "@hyperv-kvp/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { isAgentError } from "./agent-error.js";
import { MAX_CONFIG_BYTES, fileModeWarning, loadConfig, validateConfig } from "./config.js";

const dir = mkdtempSync(join(tmpdir(), "kvp-agent-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The example config of the README/report: it must stay valid. */
export const EXAMPLE_CONFIG = {
  stateDir: "/run/kvp-agent",
  fileMode: "0600",
  env: { prefix: "kvp_" },
  decoders: { "cloudstack-vm-userdata": "pairs", "vm-config": "json", "ssh-key-*": "base64" },
  hooksDir: "/etc/kvp-agent/hooks.d",
  hooks: [
    {
      name: "apply-userdata",
      command: ["/usr/local/sbin/apply-userdata", "--quiet"],
      keys: ["cloudstack-*"],
      events: ["added", "changed"],
      timeoutSeconds: 60,
    },
  ],
  hookTimeoutSeconds: 30,
  log: { level: "info", values: false },
  safetyNetSeconds: 60,
  lockTimeoutSeconds: 5,
};

describe("validateConfig", () => {
  it("fills defaults for an empty config", () => {
    const c = validateConfig({}, "x");
    expect(c).toMatchObject({
      stateDir: "/run/kvp-agent",
      fileMode: 0o600,
      envPrefix: "kvp_",
      hooks: [],
      hookTimeoutMs: 30_000,
      logValues: false,
      safetyNetMs: 60_000,
    });
    expect(c.poolDir).toBeUndefined();
    expect(c.decodedEnvPrefix).toBe("");
  });

  it("reads {} as the schema would (validateConfig skips the schema for it: every field must stay optional)", () => {
    // Each field present but undefined goes through the schema; a field made required would
    // fail here while {} still passed.
    const fields = [
      "poolDir",
      "stateDir",
      "fileMode",
      "env",
      "decoders",
      "hooksDir",
      "hooks",
      "hookTimeoutSeconds",
      "log",
      "hostFilesMaxBytes",
      "cloudInit",
      "safetyNetSeconds",
      "lockTimeoutSeconds",
    ];
    const allUndefined = Object.fromEntries(fields.map((field) => [field, undefined]));
    expect(validateConfig(allUndefined, "x")).toEqual(validateConfig({}, "x"));
    // The list above is the schema's: a field it does not know is refused.
    expect(() => validateConfig({ ...allUndefined, notAField: undefined }, "x")).toThrow(/notAField: unknown field/);
  });

  it("env.prefix: refuses an empty prefix and one the toolkit, shells, loader or tools share", () => {
    expect(validateConfig({ env: { prefix: "host_" } }, "x").envPrefix).toBe("host_");
    expect(() => validateConfig({ env: { prefix: "" } }, "c.json")).toThrow(/^c\.json: env\.prefix: must not be empty/);
    // The old default: the toolkit's own name space (KVP_AGENT_NODE, KVP_POOL_DIR).
    expect(() => validateConfig({ env: { prefix: "KVP_" } }, "c.json")).toThrow(
      /^c\.json: env\.prefix: "KVP_" has no lower-case letter/,
    );
    for (const prefix of ["LD_", "BASH_", "PS", "PATH", "1x", "a-", "h", "npm_"])
      expect(() => validateConfig({ env: { prefix } }, "c.json"), prefix).toThrow(/^c\.json: env\.prefix: /);
  });

  it("env.decodedPrefix: empty or the start of a variable name", () => {
    expect(validateConfig({ env: { decodedPrefix: "cs_" } }, "x").decodedEnvPrefix).toBe("cs_");
    expect(() => validateConfig({ env: { decodedPrefix: "1x" } }, "c.json")).toThrow(
      "c.json: env.decodedPrefix: must be empty or a valid variable name start",
    );
    expect(() => validateConfig({ env: { decodedPrefix: "a-" } }, "c.json")).toThrow(/env\.decodedPrefix/);
  });

  it("accepts the example", () => {
    const c = validateConfig(EXAMPLE_CONFIG, "x");
    expect(c.hooks[0]).toMatchObject({ name: "apply-userdata", pools: [0], timeoutMs: 60_000 });
    expect(c.decoders[2]).toEqual({ pattern: "ssh-key-*", decoder: "base64" });
  });

  it("command-line overrides win", () => {
    expect(validateConfig({ stateDir: "/a", poolDir: "/p" }, "x", { stateDir: "/b" })).toMatchObject({
      stateDir: "/b",
      poolDir: "/p",
    });
  });

  it.each([
    [{ hooks: [{ name: "a", command: [] }] }, "c.json: hooks[0].command: must name a program"],
    [
      { hooks: [{ name: "a", command: "ls -l" }] },
      "c.json: hooks[0].command: must be an array of strings (program, then arguments; no shell)",
    ],
    [{ hooks: [{ name: "a b", command: ["x"] }] }, "c.json: hooks[0].name: letters, digits"],
    [{ decoders: { k: "yaml" } }, "c.json: decoders.k: must be one of pairs, cmdline, json, base64, raw"],
    [{ fileMode: 600 }, 'c.json: fileMode: must be an octal string such as "0600"'],
    [{ fileMode: "0666" }, "c.json: fileMode: 0666 is world-writable"],
    [{ fileMode: "0602" }, "c.json: fileMode: 0602 is world-writable"],
    [{ fileMode: "777" }, "c.json: fileMode: 0777 is world-writable"],
    [{ stateDri: "/x" }, "c.json: stateDri: unknown field (check its spelling)"],
    [{ log: { level: "loud" } }, "c.json: log.level: must be one of error, warning, info, debug"],
    [
      {
        hooks: [
          { name: "a", command: ["x"] },
          { name: "a", command: ["y"] },
        ],
      },
      'c.json: hooks[1].name: "a" is used twice',
    ],
    [[], "c.json: must be a JSON object"],
    [null, "c.json: must be a JSON object"],
  ])("%j → %s", (input, message) => {
    const error = thrown(() => validateConfig(input, "c.json"));
    expect(isAgentError(error, "config")).toBe(true);
    expect((error as Error).message.startsWith(message)).toBe(true);
  });
});

describe("fileMode", () => {
  it.each([
    ["0600", 0o600],
    ["0640", 0o640],
    ["0644", 0o644],
    ["400", 0o400],
  ])("%s is accepted without a warning", (text, mode) => {
    expect(validateConfig({ fileMode: text }, "c.json").fileMode).toBe(mode);
    expect(fileModeWarning(mode)).toBeUndefined();
  });

  it.each([
    ["0660", 0o660],
    ["0620", 0o620],
    ["0670", 0o670],
  ])("%s is accepted with a warning: group members could rewrite what root sources", (text, mode) => {
    expect(validateConfig({ fileMode: text }, "c.json").fileMode).toBe(mode);
    expect(fileModeWarning(mode)).toMatch(new RegExp(`^fileMode ${text} is group-writable: `));
  });
});

describe("loadConfig", () => {
  it("an absent default file means defaults; an absent named file is an error", () => {
    expect(() => loadConfig(join(dir, "absent.json"))).toThrow(/cannot read config .*ENOENT/);
    // optional: the config of a system under another root, which may have none.
    expect(loadConfig(join(dir, "absent.json"), {}, { optional: true })).toMatchObject({
      found: false,
      path: join(dir, "absent.json"),
      config: { envPrefix: "kvp_" },
    });
  });

  it("names non-JSON", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, "{");
    expect(() => loadConfig(file)).toThrow(/bad\.json: not JSON/);
  });

  it("refuses an oversized or endless file without reading it whole", () => {
    const big = join(dir, "big.json");
    writeFileSync(big, " ".repeat(MAX_CONFIG_BYTES + 1));
    expect(() => loadConfig(big)).toThrow(/big\.json: larger than 1048576 bytes/);
    // Before: readFileSync("/dev/zero") never returned (or ran out of memory).
    expect(() => loadConfig("/dev/zero")).toThrow(/\/dev\/zero: larger than 1048576 bytes/);
  });
});
