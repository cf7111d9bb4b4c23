import { describe, expect, it } from "vitest";
import { DEFAULT_ENV_PREFIX, envPrefixProblem, isEnvName, shellNameProblem } from "./env-names.js";

describe("shellNameProblem: which names a host may have assigned in a file root's scripts source", () => {
  it.each([
    ["eth0ip", undefined],
    ["__proto__", undefined],
    ["Name", undefined],
    ["kvp_AGENT_NODE", undefined],
    ["proxy", undefined],
    ["proxy_vm", undefined],
    ["HOME", /lower-case/],
    ["A1_B", /lower-case/],
    ["KVP_AGENT_NODE", /lower-case/],
    ["a-b", /not a shell variable name/],
    ["9a", /not a shell variable name/],
    ["", /not a shell variable name/],
    // zsh's own parameters, some only once a module is loaded (zsh/parameter is autoloaded):
    // assigning a scalar to an association aborts `. file`; others change what runs.
    ["status", /special to zsh/],
    ["path", /special to zsh/],
    ["history", /special to zsh/],
    ["options", /special to zsh/],
    ["dirstack", /special to zsh/],
    ["functions", /special to zsh/],
    ["aliases", /special to zsh/],
    ["commands", /special to zsh/],
    ["mapfile", /special to zsh/],
    ["parameters", /special to zsh/],
    ["terminfo", /special to zsh/],
    ["epochtime", /special to zsh/],
    // Lower-case names programs read from the environment, in any case.
    ["http_proxy", /proxy/],
    ["https_proxy", /proxy/],
    ["no_proxy", /proxy/],
    ["all_proxy", /proxy/],
    ["Https_Proxy", /proxy/],
    ["kvp_http_proxy", /proxy/],
    ["npm_config_script_shell", /npm/],
    ["npm_execpath", /npm/],
    ["yarn_registry", /yarn/],
    ["pnpm_config_store_dir", /pnpm/],
    ["Npm_Config_prefix", /npm/],
  ])("%j", (name, problem) => {
    if (problem === undefined) expect(shellNameProblem(name)).toBeUndefined();
    else expect(shellNameProblem(name)).toMatch(problem);
  });
});

describe("envPrefixProblem: the host.env prefix keeps every name the host chooses out of the others' way", () => {
  it.each([
    ["kvp_", undefined],
    ["host_", undefined],
    ["Kvp", undefined],
    ["cs_", undefined],
    ["", /must not be empty/],
    ["KVP_", /lower-case letter/],
    ["PATH", /lower-case letter/],
    ["LD_", /lower-case letter/],
    ["BASH_", /lower-case letter/],
    ["PS", /lower-case letter/],
    ["IFS", /lower-case letter/],
    ["ENV", /lower-case letter/],
    ["_", /lower-case letter/],
    ["1x", /variable name/],
    ["a-", /variable name/],
    // Prefixes from which a host key could spell a name zsh or a tool gives a meaning.
    ["h", /could complete it into "h\w+", special to zsh/],
    ["dir", /"dirstack".*zsh/],
    ["npm_", /npm_…/],
    ["np", /npm_…/],
    ["npm_config_x", /npm_…/],
    ["yarn", /yarn_…/],
    ["Pnpm_", /pnpm_…/],
  ])("%j", (prefix, problem) => {
    if (problem === undefined) expect(envPrefixProblem(prefix)).toBeUndefined();
    else expect(envPrefixProblem(prefix)).toMatch(problem);
  });

  it("the default passes", () => {
    expect(DEFAULT_ENV_PREFIX).toBe("kvp_");
    expect(envPrefixProblem(DEFAULT_ENV_PREFIX)).toBeUndefined();
  });
});

it("isEnvName", () => {
  expect(isEnvName("KVP_a1")).toBe(true);
  expect(isEnvName("_")).toBe(true);
  expect(isEnvName("a-b")).toBe(false);
  expect(isEnvName("1a")).toBe(false);
  expect(isEnvName("")).toBe(false);
});
