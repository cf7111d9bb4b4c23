// The kvp-agent .deb, built by packaging/build-deb.mjs and really installed, upgraded, removed
// and purged by dpkg, into a throwaway root (--instdir) with its own package database
// (--admindir): maintainer scripts run chrootless with DPKG_ROOT set, as in a template build
// root, so this machine's files and dpkg database are never touched. The root's database
// knows two packages from this machine's own: nodejs (which the launcher runs as /usr/bin/node)
// and libc6, so the Depends line is checked for real, and without them dpkg must refuse.
// The installed launcher runs `kvp-agent once` with the installed bundle and koffi, under the
// machine's Node and under Node 18, against pool files in the root's own /var/lib/hyperv, so
// the test sees prerm's `kvp-agent forget --root` clear the agent's pool-1 records on remove
// and purge (not on upgrade) and leave this machine's /var/lib/hyperv alone. The installed
// /usr/bin/kvp-pool, whose bundle shares that koffi and the kvp-lock addon, lists, gets, sets and deletes records
// in the same pools under both Nodes; remove takes it away with the rest. Needs dpkg,
// dpkg-deb, deb-systemd-helper, a nodejs Debian package, Node 18 and kvp-pool's built bundle:
// missing, the tests fail (see test-support/packaging-support.ts).
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type KvpRecord, decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPORT_KEYS } from "../reporter.js";
import { STATE_FILES } from "../state-files.js";
import { VERSION } from "../version.js";
import {
  APP_DIR,
  BUNDLE,
  PACKAGING_DIR,
  type RunResult,
  builtPoolBundle,
  describeNeeding,
  hasProgram,
  obtainNode18,
  removeTempDirs,
  runSync,
  tempDir,
  tree,
  withSbin,
} from "./test-support/packaging-support.js";

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(APP_DIR, "package.json"), "utf8")) as { version: string })
  .version;
/** A higher version for the upgrade (Debian orders "+" after the end of a version). */
const UPGRADE_VERSION = `${PACKAGE_VERSION}+upgrade1`;
const LIB = "usr/lib/kvp-agent";
const WANTS_LINK = "etc/systemd/system/multi-user.target.wants/kvp-agent.service";

/** The package's entries besides the two copied npm packages, as {@link tree} writes them. */
const OWN_ENTRIES = [
  "etc/",
  "etc/kvp-agent/",
  "etc/kvp-agent/config.example.json",
  "etc/kvp-agent/hooks.d/",
  "lib/",
  "lib/systemd/",
  "lib/systemd/system/",
  "lib/systemd/system/cloud-init-local.service.d/",
  "lib/systemd/system/cloud-init-local.service.d/50-kvp-agent-cloud-init-seed.conf",
  "lib/systemd/system/kvp-agent-cloud-init-seed.service",
  "lib/systemd/system/kvp-agent.service",
  "usr/",
  "usr/bin/",
  "usr/bin/kvp-agent",
  "usr/bin/kvp-pool",
  "usr/lib/",
  `${LIB}/`,
  `${LIB}/kvp-agent.cjs`,
  `${LIB}/kvp-lock.linux-${process.arch}.node`,
  `${LIB}/kvp-pool.cjs`,
  `${LIB}/node_modules/`,
  `${LIB}/node_modules/@koromix/`,
  "usr/share/",
  "usr/share/doc/",
  "usr/share/doc/kvp-agent/",
  "usr/share/doc/kvp-agent/README.Debian",
  "usr/share/doc/kvp-agent/THIRD-PARTY-NOTICES",
  "usr/share/doc/kvp-agent/changelog.gz",
  "usr/share/doc/kvp-agent/copyright",
  "usr/share/doc/kvp-agent/examples/",
  "usr/share/doc/kvp-agent/examples/cloudstack/",
  "usr/share/doc/kvp-agent/examples/cloudstack/config.json",
  "usr/share/doc/kvp-agent/examples/cloudstack/kvp-cloudstack-hook",
  "usr/share/man/",
  "usr/share/man/man1/",
  "usr/share/man/man1/kvp-agent.1.gz",
  "usr/share/man/man1/kvp-pool.1.gz",
];

/**
 * koffi as the package ships it: what `require("koffi")` loads on this CPU with glibc, and
 * nothing else (no sources, headers, docs, musl build). See packaging/lib/koffi.mjs.
 */
const KOFFI_ENTRIES = [
  `${LIB}/node_modules/koffi/`,
  `${LIB}/node_modules/koffi/index.cjs`,
  `${LIB}/node_modules/koffi/package.json`,
  `${LIB}/node_modules/koffi/src/`,
  `${LIB}/node_modules/koffi/src/koffi/`,
  `${LIB}/node_modules/koffi/src/koffi/index.cjs`,
  `${LIB}/node_modules/koffi/src/koffi/src/`,
  `${LIB}/node_modules/koffi/src/koffi/src/static.cjs`,
  `${LIB}/node_modules/@koromix/koffi-linux-${process.arch}/`,
  `${LIB}/node_modules/@koromix/koffi-linux-${process.arch}/index.js`,
  `${LIB}/node_modules/@koromix/koffi-linux-${process.arch}/linux_${process.arch}/`,
  `${LIB}/node_modules/@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`,
  `${LIB}/node_modules/@koromix/koffi-linux-${process.arch}/package.json`,
];

/** What deb-systemd-helper writes when it enables the unit in the root. */
const ENABLED_ENTRIES = [
  "etc/systemd/",
  "etc/systemd/system/",
  "etc/systemd/system/multi-user.target.wants/",
  `${WANTS_LINK} -> /lib/systemd/system/kvp-agent.service`,
  "var/",
  "var/lib/",
  "var/lib/systemd/",
  "var/lib/systemd/deb-systemd-helper-enabled/",
  "var/lib/systemd/deb-systemd-helper-enabled/kvp-agent.service.dsh-also",
  "var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/",
  "var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/kvp-agent.service",
];

/** What a purge leaves: empty directories (run/ from the test's `once`, the rest deb-systemd-helper's). */
const PURGED_ENTRIES = ["etc/", "etc/systemd/", "etc/systemd/system/", "run/", "var/", "var/lib/", "var/lib/systemd/"];

const STATE_ENTRIES = [
  "run/",
  "run/kvp-agent/",
  "run/kvp-agent/decoded/",
  ...Object.values(STATE_FILES).map((f) => `run/kvp-agent/${f}`),
];

/** The root's pool directory, as the daemon would create it there (var/ and var/lib/ are in ENABLED_ENTRIES). */
const POOL_DIR = "var/lib/hyperv";
const POOL_ENTRIES = [`${POOL_DIR}/`, ...[0, 1, 2, 3, 4].map((p) => `${POOL_DIR}/${poolFileName(p as 0)}`)];

/** Another writer's pool-1 record: forget must keep it. */
const FOREIGN: KvpRecord = { key: "cloud-init/provisioning", value: "done" };

/** This machine's own pool 1, which no step may touch (the scripts run with DPKG_ROOT set). */
const MACHINE_POOL_1 = "/var/lib/hyperv/.kvp_pool_1";

afterAll(removeTempDirs);

describeNeeding(
  "the kvp-agent .deb",
  () => {
    for (const tool of ["dpkg", "dpkg-deb", "dpkg-query", "deb-systemd-helper", "dpkg-parsechangelog"]) {
      if (!hasProgram(tool)) return `${tool} is missing (apt-get install dpkg dpkg-dev init-system-helpers)`;
    }
    if (runSync("dpkg-query", ["-W", "-f", showField("Status"), "nodejs"]).stdout !== "install ok installed") {
      return "this machine's Node is not the Debian package nodejs, which the test root's package database needs to satisfy Depends: nodejs";
    }
    if (!existsSync("/usr/bin/node")) return "/usr/bin/node (the launcher's default) is missing";
    const node = obtainNode18();
    return node.ok ? undefined : node.reason;
  },
  () => {
    const arch = () => runSync("dpkg", ["--print-architecture"]).stdout.trim();
    let out: string;
    let debV1: string;
    let debV2: string;
    let work: string;
    let root: string;
    let admin: string;
    let pools: string;
    let machinePool1: Buffer | undefined;
    const koffiEntries = KOFFI_ENTRIES;

    beforeAll(() => {
      // build-deb --no-build packs kvp-pool's bundle as it is: it must be current.
      builtPoolBundle();
      out = tempDir("deb-out");
      const build = (version: string) => {
        // --no-build: the bundles are built (the agent's by the globalSetup, kvp-pool's checked
        // just above), and other tests run them now.
        const result = runSync(process.execPath, [
          join(PACKAGING_DIR, "build-deb.mjs"),
          "--no-build",
          "--version",
          version,
          "--out",
          out,
        ]);
        expect(result.status, result.stderr).toBe(0);
        return result.stdout.trim();
      };
      debV1 = build(PACKAGE_VERSION);
      debV2 = build(UPGRADE_VERSION);
      work = tempDir("deb-root");
      root = join(work, "root");
      admin = join(work, "admin");
      // Made by the first `once` test, after the install test has checked the root's files.
      pools = join(root, POOL_DIR);
      mkdirSync(root);
      newAdminDir(admin, true);
      machinePool1 = existsSync(MACHINE_POOL_1) ? readFileSync(MACHINE_POOL_1) : undefined;
    }, 60_000);

    afterAll(() => {
      // Whatever happened above, this machine's pool 1 is as it was.
      expect(existsSync(MACHINE_POOL_1) ? readFileSync(MACHINE_POOL_1) : undefined).toEqual(machinePool1);
    });

    /** Pool 1 of the root as [key, value] pairs. */
    const pool1 = (): [string, string][] =>
      decodePool(new Uint8Array(readFileSync(join(pools, poolFileName(1))))).records.map((r) => [r.key, r.value]);
    const agentKeys = () =>
      pool1()
        .filter(([key]) => key.startsWith("kvp-agent/"))
        .map(([key]) => key);

    const dpkg = (args: readonly string[], adminDir = admin, instDir = root): RunResult =>
      runSync(
        "dpkg",
        [
          `--instdir=${instDir}`,
          `--admindir=${adminDir}`,
          "--force-script-chrootless",
          "--force-not-root",
          `--log=${join(adminDir, "dpkg.log")}`,
          ...args,
        ],
        { ...process.env, PATH: withSbin(process.env["PATH"]) },
      );
    const installedVersion = () =>
      runSync("dpkg-query", [
        `--admindir=${admin}`,
        "-W",
        "-f",
        `${showField("Status")} ${showField("Version")}`,
        "kvp-agent",
      ]);
    // Through the launcher; or with `node` given, that node on the installed bundle, as root
    // runs another node (its launcher takes none from the environment).
    const kvpAgent = (args: readonly string[], env: Record<string, string> = {}, node?: string) =>
      node === undefined
        ? runSync(join(root, "usr/bin/kvp-agent"), args, { ...process.env, ...env })
        : runSync(node, [join(root, LIB, "kvp-agent.cjs"), ...args], { ...process.env, ...env });
    const kvpPool = (args: readonly string[], env: Record<string, string> = {}, node?: string) =>
      node === undefined
        ? runSync(join(root, "usr/bin/kvp-pool"), ["--dir", pools, ...args], { ...process.env, ...env })
        : runSync(node, [join(root, LIB, "kvp-pool.cjs"), "--dir", pools, ...args], { ...process.env, ...env });
    const once = (node?: string) =>
      kvpAgent(
        [
          "once",
          "--config",
          join(root, "etc/kvp-agent/config.json"),
          "--dir",
          pools,
          "--state-dir",
          join(root, "run/kvp-agent"),
        ],
        {},
        node,
      );
    const node18 = () => {
      const node = obtainNode18();
      if (!node.ok) throw new Error(node.reason);
      return node.path;
    };

    it("is named and described as apps/guest-agent/README.md#guest-packages says", () => {
      expect(debV1).toBe(join(out, `kvp-agent_${PACKAGE_VERSION}_${arch()}.deb`));
      const field = (name: string) => runSync("dpkg-deb", ["--field", debV1, name]).stdout.trim();
      expect(field("Package")).toBe("kvp-agent");
      expect(field("Version")).toBe(PACKAGE_VERSION);
      expect(field("Architecture")).toBe(arch());
      // The C/C++ runtime minimums are koffi's binary's symbol versions (GLIBC_2.25, CXXABI_1.3.11: GCC 7.1).
      expect(field("Depends")).toBe("nodejs (>= 18), libc6 (>= 2.25), libgcc-s1, libstdc++6 (>= 7.1)");
      expect(field("Recommends")).toBe("hyperv-daemons | linux-cloud-tools-virtual");
      expect(field("Conflicts")).toBe("kvp-agent-standalone");
      expect(field("Replaces")).toBe("kvp-agent-standalone");
      expect(field("Maintainer")).toBe("hyperv-kvp maintainers <hyperv-kvp@users.noreply.github.com>");
      expect(field("Homepage")).toBe("https://github.com/hyperv-kvp/hyperv-kvp");
      const control = tempDir("deb-control");
      expect(runSync("dpkg-deb", ["--control", debV1, control]).status).toBe(0);
      expect(readdirSync(control).sort()).toEqual([
        "conffiles",
        "control",
        "md5sums",
        "postinst",
        "postrm",
        "preinst",
        "prerm",
      ]);
      expect(readFileSync(join(control, "conffiles"), "utf8")).toBe("/etc/kvp-agent/config.example.json\n");
      for (const script of ["postinst", "postrm", "preinst", "prerm"])
        expect(statSync(join(control, script)).mode & 0o777).toBe(0o755);
    });

    it("carries a Debian changelog whose newest entry is this version, and man pages for both programs", () => {
      const files = tempDir("deb-files");
      expect(runSync("dpkg-deb", ["--extract", debV2, files]).status).toBe(0);
      const changelog = join(files, "changelog");
      writeFileSync(changelog, gunzipSync(readFileSync(join(files, "usr/share/doc/kvp-agent/changelog.gz"))));
      const parsed = runSync("dpkg-parsechangelog", ["--file", changelog, "--show-field", "Version"]);
      expect(parsed.stderr).toBe("");
      expect(parsed.stdout.trim()).toBe(UPGRADE_VERSION);
      expect(runSync("dpkg-parsechangelog", ["--file", changelog, "--show-field", "Maintainer"]).stdout.trim()).toBe(
        "hyperv-kvp maintainers <hyperv-kvp@users.noreply.github.com>",
      );
      for (const name of ["kvp-agent", "kvp-pool"]) {
        const page = gunzipSync(readFileSync(join(files, `usr/share/man/man1/${name}.1.gz`))).toString("utf8");
        expect(page).toMatch(new RegExp(`^\\.TH ${name.toUpperCase()} 1 `));
        // Written from the program's help: its usage line is in it.
        expect(page).toContain(`Usage: ${name} [options] [command]`);
      }
    });

    it("holds exactly the two bundles, koffi beside them, their launchers, the unit, the config and hooks dirs, all root-owned", () => {
      const listing = runSync("dpkg-deb", ["--contents", debV1]).stdout.trim().split("\n");
      const entries = listing.map((line) => {
        const [mode, owner, , , , path] = line.split(/\s+/);
        expect(owner, line).toBe("root/root");
        const rel = path!.replace(/^\.\//, "");
        return { mode: mode!, rel };
      });
      expect(
        entries
          .map((e) => e.rel)
          .filter((r) => r !== "")
          .sort(),
      ).toEqual([...OWN_ENTRIES, ...koffiEntries].sort());
      const modeOf = (rel: string) => entries.find((e) => e.rel === rel)?.mode;
      expect(modeOf("usr/bin/kvp-agent")).toBe("-rwxr-xr-x");
      expect(modeOf("usr/bin/kvp-pool")).toBe("-rwxr-xr-x");
      expect(modeOf(`${LIB}/kvp-agent.cjs`)).toBe("-rw-r--r--");
      expect(modeOf(`${LIB}/kvp-pool.cjs`)).toBe("-rw-r--r--");
      expect(modeOf("etc/kvp-agent/hooks.d/")).toBe("drwxr-xr-x");
    });

    it("is refused by dpkg where nodejs is not installed (Depends is enforced)", () => {
      const work = tempDir("deb-nodeps");
      newAdminDir(join(work, "admin"), false);
      mkdirSync(join(work, "root"));
      const result = dpkg(["--install", debV1], join(work, "admin"), join(work, "root"));
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("kvp-agent depends on nodejs (>= 18)");
    });

    it("is refused before anything is unpacked where nodejs is older than 18, saying what to install instead", () => {
      const work = tempDir("deb-oldnode");
      newAdminDir(join(work, "admin"), true, "12.22.12~dfsg-1~deb11u4");
      mkdirSync(join(work, "root"));
      const result = dpkg(["--install", debV1], join(work, "admin"), join(work, "root"));
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        "kvp-agent: this system's nodejs is 12.22.12~dfsg-1~deb11u4; kvp-agent needs Node.js 18 or later.",
      );
      expect(result.stderr).toContain("install kvp-agent-standalone instead");
      // preinst failed: dpkg undid the unpack, so nothing of kvp-agent is there.
      expect(tree(join(work, "root"))).toEqual([]);
      const status = runSync("dpkg-query", [
        `--admindir=${join(work, "admin")}`,
        "-W",
        "-f",
        showField("db:Status-Abbrev"),
        "kvp-agent",
      ]);
      expect(status.stdout.trim()).toMatch(/^.n$/);
    });

    it("installs into the throwaway root: its files, the unit enabled there, nothing on this machine", () => {
      const machineLink = `/${WANTS_LINK}`;
      const machineHad = existsSync(machineLink) || lstatExists(machineLink);
      const result = dpkg(["--install", debV1]);
      expect(result.status, result.stderr).toBe(0);
      expect(installedVersion().stdout).toBe(`install ok installed ${PACKAGE_VERSION}`);
      expect(tree(root)).toEqual([...OWN_ENTRIES, ...koffiEntries, ...ENABLED_ENTRIES].sort());
      // koffi's binary is the one from node_modules, byte for byte.
      const binary = `node_modules/@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`;
      expect(
        readFileSync(join(root, LIB, binary)).equals(
          readFileSync(join(koffiPlatformDir(), `linux_${process.arch}/koffi.node`)),
        ),
      ).toBe(true);
      // The kvp-lock addon (the lock calls without koffi) is the build's, beside the bundles.
      const addon = `kvp-lock.linux-${process.arch}.node`;
      expect(readFileSync(join(root, LIB, addon)).equals(readFileSync(join(APP_DIR, "dist", addon)))).toBe(true);
      // The bundles as built, less the shebang (the launchers pick the node) and the
      // sourceMappingURL (the map is not shipped).
      expect(readFileSync(join(root, LIB, "kvp-agent.cjs"), "utf8")).toBe(asShipped(BUNDLE));
      expect(readFileSync(join(root, LIB, "kvp-pool.cjs"), "utf8")).toBe(asShipped(builtPoolBundle()));
      expect(existsSync(machineLink) || lstatExists(machineLink)).toBe(machineHad);
    });

    it("runs `kvp-agent once` from the installed files, under the machine's Node and under Node 18", () => {
      // The admin starts a config from the example; it must hold the defaults exactly.
      const example = join(root, "etc/kvp-agent/config.example.json");
      writeFileSync(join(root, "etc/kvp-agent/config.json"), readFileSync(example));
      mkdirSync(pools, { recursive: true });
      writeFileSync(join(work, "empty.json"), "{}");
      const effective = (config: string) => {
        const result = kvpAgent(["config", "check", "--json", "--config", config]);
        expect(result.status, result.stderr).toBe(0);
        return (JSON.parse(result.stdout) as { config: unknown }).config;
      };
      expect(effective(example)).toEqual(effective(join(work, "empty.json")));

      writePool(pools, 0, [{ key: "Role", value: "web" }]);
      writePool(pools, 3, [{ key: "HostName", value: "hv-01" }]);
      writePool(pools, 1, [FOREIGN]);
      for (const pool of [2, 4]) writePool(pools, pool, []);

      for (const node of [undefined, node18()]) {
        const result = once(node);
        expect(result.status, `${node ?? "launcher"}: ${result.stderr}`).toBe(0);
        expect(result.stdout).toBe("stopped: 1 item(s), 1 fact(s)\n");
        expect(JSON.parse(readFileSync(join(root, "run/kvp-agent", STATE_FILES.host), "utf8"))).toEqual({
          Role: "web",
        });
        const pool1 = new Map(
          decodePool(new Uint8Array(readFileSync(join(pools, poolFileName(1))))).records.map((r) => [r.key, r.value]),
        );
        expect(pool1.get(REPORT_KEYS.status)).toBe("stopped");
        expect(pool1.get(REPORT_KEYS.version)).toBe(VERSION);
      }
      // The installed bundle takes koffi from beside it, and Node 18 loads it.
      const probe =
        'const r = require("node:module").createRequire(process.argv[1]); console.log(r.resolve("koffi"), r("koffi").version)';
      const loaded = runSync(node18(), ["-e", probe, join(root, LIB, "kvp-agent.cjs")]);
      expect(loaded.stdout).toMatch(
        new RegExp(`^${escapeRegExp(join(root, LIB, "node_modules/koffi/index.cjs"))} 3\\.3\\.\\d+\\n$`),
      );
    });

    it("runs the installed `kvp-pool` on the root's pools, under the machine's Node and under Node 18, the lock through the installed addon", () => {
      // The pools `once` above left: the host's Role, the facts, the foreign and the agent's pool-1 records.
      const records = pool1();
      expect(agentKeys()).toContain(REPORT_KEYS.status);
      for (const node of [undefined, node18()]) {
        const what = node ?? "launcher";
        // LD_DEBUG=files: the dynamic loader's account of what the run opened. The pool lock goes
        // through the installed kvp-lock addon beside the bundle; koffi is never loaded.
        const got = kvpPool(["get", "Role", "--pool", "external"], { LD_DEBUG: "files" }, node);
        expect(got.status, `${what}: ${got.stderr}`).toBe(0);
        expect(got.stdout).toBe("web\n");
        const opened = [...got.stderr.matchAll(/opening file=(\S+\.node) \[0\]; direct_opencount/g)].map((m) => m[1]);
        expect(opened, what).toEqual([join(root, LIB, `kvp-lock.linux-${process.arch}.node`)]);
        expect(kvpPool(["get", REPORT_KEYS.version], {}, node).stdout).toBe(`${VERSION}\n`);
        const listed = kvpPool(["list", "--pool", "guest", "--json"], {}, node);
        expect(listed.status, `${what}: ${listed.stderr}`).toBe(0);
        expect((JSON.parse(listed.stdout) as { key: string; value: string }[]).map((r) => [r.key, r.value])).toEqual(
          records,
        );
        const facts = kvpPool(["list", "--pool", "auto-external"], {}, node);
        expect(facts.status, `${what}: ${facts.stderr}`).toBe(0);
        expect(facts.stdout).toBe("# pool 3 (auto-external)\nHostName = hv-01\n");

        // A write takes the daemon-compatible locks through the installed koffi.
        const set = kvpPool(["set", "debug/probe", "seen"], {}, node);
        expect(set.status, `${what}: ${set.stderr}`).toBe(0);
        expect(pool1()).toEqual([...records, ["debug/probe", "seen"]]);
        expect(kvpPool(["check"], {}, node).status).toBe(0);
        const deleted = kvpPool(["delete", "debug/probe"], {}, node);
        expect(deleted.status, `${what}: ${deleted.stderr}`).toBe(0);
        expect(pool1()).toEqual(records);
        const gone = kvpPool(["get", "debug/probe"], {}, node);
        expect(gone.status).toBe(1);
        expect(gone.stderr).toMatch(/^kvp-pool: /);
      }
      // The launchers run the node KVP_*_NODE names for other users only: as root (these tests
      // run as root) they run /usr/bin/node and say so (launchers.test.ts has both sides).
      const noSuchNode = join(work, "no-such-node");
      const asRoot = process.getuid?.() === 0;
      const pool = kvpPool(["--help"], { KVP_POOL_NODE: noSuchNode });
      expect(pool.status, pool.stderr).toBe(asRoot ? 0 : 127);
      const agent = kvpAgent(["--help"], { KVP_AGENT_NODE: noSuchNode });
      expect(agent.status, agent.stderr).toBe(asRoot ? 0 : 127);
      if (asRoot) expect(agent.stderr).toMatch(/^kvp-agent: KVP_AGENT_NODE ignored: run as root/);
      // The installed kvp-pool bundle takes koffi from beside it too: one copy for both.
      const probe =
        'const r = require("node:module").createRequire(process.argv[1]); console.log(r.resolve("koffi"), r("koffi").version)';
      const loaded = runSync(node18(), ["-e", probe, join(root, LIB, "kvp-pool.cjs")]);
      expect(loaded.stdout).toMatch(
        new RegExp(`^${escapeRegExp(join(root, LIB, "node_modules/koffi/index.cjs"))} 3\\.3\\.\\d+\\n$`),
      );
    });

    it("upgrades to a higher version, keeping the admin's config, hooks, edited conffile and the agent's pool-1 records", () => {
      const admins = {
        "etc/kvp-agent/config.json": readFileSync(join(root, "etc/kvp-agent/config.json")),
        "etc/kvp-agent/config.example.json": Buffer.from('{ "log": { "level": "debug" } }\n'),
        "etc/kvp-agent/hooks.d/10-admin": Buffer.from("#!/bin/sh\nexit 0\n"),
      };
      for (const [rel, bytes] of Object.entries(admins)) writeFileSync(join(root, rel), bytes);
      chmodSync(join(root, "etc/kvp-agent/hooks.d/10-admin"), 0o755);
      const before = tree(root);
      const records = pool1();
      expect(agentKeys()).toContain(REPORT_KEYS.status);

      // No stdin: a conffile prompt would fail the upgrade rather than wait.
      const result = dpkg(["--install", debV2]);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain(`Unpacking kvp-agent (${UPGRADE_VERSION}) over (${PACKAGE_VERSION})`);
      expect(installedVersion().stdout).toBe(`install ok installed ${UPGRADE_VERSION}`);
      expect(tree(root)).toEqual(before);
      // prerm upgrade does not forget: the host keeps seeing the agent across the upgrade.
      expect(pool1()).toEqual(records);
      for (const [rel, bytes] of Object.entries(admins))
        expect(readFileSync(join(root, rel)).equals(bytes), rel).toBe(true);
      expect(statSync(join(root, "etc/kvp-agent/hooks.d/10-admin")).mode & 0o777).toBe(0o755);
      const again = once();
      expect(again.status, again.stderr).toBe(0);

      // A config this version refuses (the old default env.prefix) is named in the output of
      // the install, which still succeeds; the admin's file stays as it is.
      const refused = '{ "env": { "prefix": "KVP_" } }\n';
      writeFileSync(join(root, "etc/kvp-agent/config.json"), refused);
      try {
        const reinstall = dpkg(["--install", debV2]);
        expect(reinstall.status, reinstall.stderr).toBe(0);
        expect(reinstall.stderr).toContain('env.prefix: "KVP_" has no lower-case letter');
        expect(reinstall.stderr).toContain(
          `kvp-agent: the agent will not start until ${join(root, "etc/kvp-agent/config.json")} is fixed (kvp-agent config check)\n`,
        );
        expect(readFileSync(join(root, "etc/kvp-agent/config.json"), "utf8")).toBe(refused);
        expect(installedVersion().stdout).toBe(`install ok installed ${UPGRADE_VERSION}`);
      } finally {
        writeFileSync(join(root, "etc/kvp-agent/config.json"), admins["etc/kvp-agent/config.json"]);
      }
    });

    it("remove forgets the agent's pool-1 records and keeps config, hooks and enablement; purge removes them and the state", () => {
      const ours = agentKeys();
      expect(ours).toEqual(expect.arrayContaining([REPORT_KEYS.status, REPORT_KEYS.version, REPORT_KEYS.bootId]));
      const removed = dpkg(["--remove", "kvp-agent"]);
      expect(removed.status, removed.stderr).toBe(0);
      // prerm ran the root's own kvp-agent forget on the root's pool 1: other writers' records stay.
      expect(pool1()).toEqual([[FOREIGN.key, FOREIGN.value]]);
      expect(`${removed.stdout}${removed.stderr}`).toContain(
        `removed ${ours.length} record(s) from ${join(pools, poolFileName(1))}: `,
      );
      expect(tree(root)).toEqual(
        [
          "etc/",
          "etc/kvp-agent/",
          "etc/kvp-agent/config.example.json",
          "etc/kvp-agent/config.json",
          "etc/kvp-agent/hooks.d/",
          "etc/kvp-agent/hooks.d/10-admin",
          ...ENABLED_ENTRIES,
          ...STATE_ENTRIES,
          ...POOL_ENTRIES,
        ].sort(),
      );
      expect(installedVersion().stdout).toBe(`deinstall ok config-files ${UPGRADE_VERSION}`);
      for (const gone of ["usr/bin/kvp-pool", `${LIB}/kvp-pool.cjs`])
        expect(lstatExists(join(root, gone)), gone).toBe(false);

      const purged = dpkg(["--purge", "kvp-agent"]);
      expect(purged.status, purged.stderr).toBe(0);
      // Empty directories only, and the daemon's pool files: run/ was made by the test's
      // `once`, the others are deb-systemd-helper's (on a real system systemd's own).
      expect(tree(root)).toEqual([...PURGED_ENTRIES, ...POOL_ENTRIES].sort());
      expect(runSync("dpkg-query", [`--admindir=${admin}`, "-W", "kvp-agent"]).status).not.toBe(0);
      expect(pool1()).toEqual([[FOREIGN.key, FOREIGN.value]]);
      for (const gone of ["usr/bin/kvp-pool", `${LIB}/kvp-pool.cjs`])
        expect(lstatExists(join(root, gone)), gone).toBe(false);
    });

    it("purge of an installed package forgets too; a root without pools gets a note, not a failure", () => {
      const install = () => {
        const installed = dpkg(["--install", debV2]);
        expect(installed.status, installed.stderr).toBe(0);
        writeFileSync(join(root, "etc/kvp-agent/config.json"), "{}\n");
      };
      install();
      const ran = once();
      expect(ran.status, ran.stderr).toBe(0);
      expect(agentKeys()).toContain(REPORT_KEYS.status);
      const purged = dpkg(["--purge", "kvp-agent"]);
      expect(purged.status, purged.stderr).toBe(0);
      expect(pool1()).toEqual([[FOREIGN.key, FOREIGN.value]]);
      expect(tree(root)).toEqual([...PURGED_ENTRIES, ...POOL_ENTRIES].sort());

      // No KVP daemon in the root (no pool directory): forget says so, the purge goes on.
      rmSync(pools, { recursive: true });
      install();
      const quiet = dpkg(["--purge", "kvp-agent"]);
      expect(quiet.status, quiet.stderr).toBe(0);
      expect(`${quiet.stdout}${quiet.stderr}`).toContain(`kvp-agent: note: nothing to forget: ${pools} does not exist`);
      expect(`${quiet.stdout}${quiet.stderr}`).not.toContain("kvp-agent: warning");
      expect(tree(root)).toEqual([...PURGED_ENTRIES].sort());
      expect(runSync("dpkg-query", [`--admindir=${admin}`, "-W", "kvp-agent"]).status).not.toBe(0);
    });
  },
);

/** A dpkg-query --showformat field reference: `${name}`. */
function showField(name: string): string {
  return `\${${name}}`;
}

/** The packages kvp-agent depends on, whose entries a seeded package database copies from this machine's. */
const DEPENDED_ON = ["nodejs", "libc6", "libgcc-s1", "libstdc++6"];

/**
 * A package database for an install root; `seeded` copies in this machine's entries of
 * {@link DEPENDED_ON}, with nodejs at `nodejsVersion` when given (a Debian 11 one, say).
 */
function newAdminDir(admin: string, seeded: boolean, nodejsVersion?: string): void {
  for (const dir of ["info", "updates", "triggers"]) mkdirSync(join(admin, dir), { recursive: true });
  if (!seeded) {
    writeFileSync(join(admin, "status"), "");
    return;
  }
  const stanzas = runSync("dpkg-query", ["--status", ...DEPENDED_ON]);
  expect(stanzas.status, stanzas.stderr).toBe(0);
  let status = stanzas.stdout;
  if (nodejsVersion !== undefined) {
    const before = status;
    status = status.replace(/^(Package: nodejs\n(?:.+\n)*?)Version: .+$/m, `$1Version: ${nodejsVersion}`);
    expect(status).not.toBe(before);
  }
  writeFileSync(join(admin, "status"), status);
  // They own no files in this root: empty file lists say so (and keep dpkg from warning).
  for (const pkg of DEPENDED_ON) {
    const name = runSync("dpkg-query", ["-W", "-f", showField("binary:Package"), pkg]).stdout.trim();
    writeFileSync(join(admin, "info", `${name}.list`), "");
  }
}

/** koffi's prebuilt-binary package for this platform, as installed beside koffi. */
function koffiPlatformDir(): string {
  return realpathSync(
    join(realpathSync(join(APP_DIR, "node_modules/koffi")), `../@koromix/koffi-linux-${process.arch}`),
  );
}

/**
 * A built bundle as the package ships it: without its first (#!) line, and without its last
 * (sourceMappingURL) line where the build writes one (the map is not shipped).
 */
function asShipped(bundle: string): string {
  const lines = readFileSync(bundle, "utf8").split("\n");
  expect(lines[0]).toMatch(/^#!/);
  const body = lines.slice(1);
  if (/^\/\/# sourceMappingURL=/.test(body.at(-2) ?? "")) body.splice(-2, 1);
  return body.join("\n");
}

function writePool(dir: string, pool: number, records: { key: string; value: string }[]): void {
  writeFileSync(join(dir, poolFileName(pool as 0)), encodePool(records));
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
