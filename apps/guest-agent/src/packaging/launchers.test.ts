// The .deb's and .rpm's /usr/bin/kvp-agent and /usr/bin/kvp-pool: shell launchers that run a
// bundle with the system's node. A variable may name another node for a user, never for root:
// a root script that exported an env file's variables must not have chosen the program it runs.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const PACKAGING = fileURLToPath(new URL("../../packaging/deb", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kvp-agent-launchers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LAUNCHERS = [
  { launcher: "kvp-agent", variable: "KVP_AGENT_NODE", bundle: "kvp-agent.cjs" },
  { launcher: "kvp-pool", variable: "KVP_POOL_NODE", bundle: "kvp-pool.cjs" },
] as const;

/**
 * An installed layout under a fresh root (ROOT/bin/LAUNCHER, ROOT/lib/kvp-agent/BUNDLE, a
 * stand-in bundle that says it ran), an `id` that claims `uid` (or fails, for "fails"), and a
 * "node" a hostile env file would name, which leaves a mark when run.
 */
function layout(launcher: string, bundle: string, uid: string) {
  const root = mkdtempSync(join(dir, "root-"));
  mkdirSync(join(root, "bin"));
  mkdirSync(join(root, "lib/kvp-agent"), { recursive: true });
  copyFileSync(join(PACKAGING, launcher), join(root, "bin", launcher));
  chmodSync(join(root, "bin", launcher), 0o755);
  writeFileSync(join(root, "lib/kvp-agent", bundle), 'console.log("bundle ran", process.argv.slice(2).join(" "))\n');
  const tools = join(root, "tools");
  mkdirSync(tools);
  writeFileSync(join(tools, "id"), uid === "fails" ? "#!/bin/sh\nexit 1\n" : `#!/bin/sh\necho ${uid}\n`);
  chmodSync(join(tools, "id"), 0o755);
  const mark = join(root, "hostile-node-ran");
  const hostile = join(root, "hostile-node");
  writeFileSync(hostile, `#!/bin/sh\ntouch '${mark}'\necho hostile node ran\n`);
  chmodSync(hostile, 0o755);
  return { run: join(root, "bin", launcher), tools, hostile, mark };
}

describe.each(LAUNCHERS)("/usr/bin/$launcher", ({ launcher, variable, bundle }) => {
  const run = (uid: string, env: Record<string, string> = {}) => {
    const l = layout(launcher, bundle, uid);
    const result = spawnSync("/bin/sh", [l.run, "status", "--json"], {
      encoding: "utf8",
      env: { PATH: `${l.tools}:/usr/bin:/bin`, [variable]: l.hostile, ...env },
    });
    return { ...result, ran: existsSync(l.mark) };
  };

  it(`as root, ignores ${variable} and runs the bundle with /usr/bin/node, saying so`, () => {
    const result = run("0");
    expect(result.ran).toBe(false);
    expect(result.stdout).toBe("bundle ran status --json\n");
    expect(result.stderr).toBe(
      `${launcher}: ${variable} ignored: run as root, the launcher runs /usr/bin/node only (run another node on the bundle in /usr/lib/kvp-agent yourself)\n`,
    );
    expect(result.status).toBe(0);
  });

  it(`ignores ${variable} when it cannot tell who runs it`, () => {
    const result = run("fails");
    expect(result.ran).toBe(false);
    expect(result.stdout).toBe("bundle ran status --json\n");
  });

  it(`for another user, runs the node ${variable} names`, () => {
    const result = run("1000");
    expect(result.ran).toBe(true);
    expect(result.stdout).toBe("hostile node ran\n");
    expect(result.stderr).toBe("");
  });

  it(`without ${variable}, runs /usr/bin/node quietly, for root too`, () => {
    const result = run("0", { [variable]: "" });
    expect(result.stdout).toBe("bundle ran status --json\n");
    expect(result.stderr).toBe("");
  });
});

it("/usr/bin/kvp-agent caps node's young generation (a host changing keys fast grew it, and RSS, by 16 MB and more)", () => {
  const l = layout("kvp-agent", "kvp-agent.cjs", "0");
  const root = join(l.run, "../..");
  writeFileSync(join(root, "lib/kvp-agent/kvp-agent.cjs"), 'console.log(process.execArgv.join(" "))\n');
  const result = spawnSync("/bin/sh", [l.run, "run"], { encoding: "utf8", env: { PATH: `${l.tools}:/usr/bin:/bin` } });
  expect(result.stdout).toBe("--max-semi-space-size=1\n");
  expect(result.status).toBe(0);
});
