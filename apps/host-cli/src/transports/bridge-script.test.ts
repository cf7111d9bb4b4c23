// The bridge script as PowerShell gets it: the package's file, or, inside a single executable,
// a private temporary copy of its SEA asset. The "single executable" here is an injected
// asset source; scripts/release-checks/host-exe.test.ts runs the real kvp-host.exe under Wine.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BRIDGE_TEMP_PREFIX, type SeaAssetSource, bridgeScriptPath, prepareBridgeScript } from "./bridge-script.js";
import { openPowerShellClient } from "./powershell.js";
import { PROTOCOL_VERSION } from "./powershell-protocol.js";
import { TransportError, isTransportError } from "../transport-error.js";
import { BRIDGE_SCRIPT_NAME } from "./powershell-protocol.js";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = readFileSync(join(APP_DIR, "powershell", BRIDGE_SCRIPT_NAME));

/** A single executable whose assets are `assets`; `isSea` false makes it an ordinary Node. */
function fakeSea(assets: Record<string, Uint8Array>, isSea = true): SeaAssetSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    isSea: () => isSea,
    getAsset: (key) => {
      asked.push(key);
      const bytes = assets[key];
      // node:sea throws this way for a key the executable does not hold.
      if (bytes === undefined)
        throw Object.assign(new Error(`Cannot find asset ${key} for the single executable application`), {
          code: "ERR_SINGLE_EXECUTABLE_APPLICATION_ASSET_NOT_FOUND",
        });
      return bytes.slice().buffer;
    },
  };
}

let temp: string;
beforeEach(() => {
  temp = mkdtempSync(join(tmpdir(), "kvp-bridge-script-test-"));
});
afterEach(() => {
  rmSync(temp, { recursive: true, force: true });
});

describe("prepareBridgeScript", () => {
  it("outside a single executable: the package's own file, nothing written, nothing to remove", async () => {
    for (const sea of [undefined, fakeSea({ [BRIDGE_SCRIPT_NAME]: SCRIPT }, false)]) {
      const script = await prepareBridgeScript({ sea, tempDir: temp });
      expect(script).toMatchObject({ path: bridgeScriptPath(), temporary: false });
      await script.dispose();
      expect(existsSync(script.path)).toBe(true);
      expect(readdirSync(temp)).toEqual([]);
    }
    // This test process is no single executable: node:sea says so (Node 20.12+).
    expect((await prepareBridgeScript({ tempDir: temp })).temporary).toBe(false);
  });

  it("inside one: the asset's exact bytes in a private directory, removed by dispose", async () => {
    const sea = fakeSea({ [BRIDGE_SCRIPT_NAME]: SCRIPT });
    const script = await prepareBridgeScript({ sea, tempDir: temp });
    expect(sea.asked).toEqual([BRIDGE_SCRIPT_NAME]);
    expect(script.temporary).toBe(true);
    const [dir] = readdirSync(temp);
    expect(dir).toMatch(new RegExp(`^${BRIDGE_TEMP_PREFIX}`));
    expect(script.path).toBe(join(temp, dir!, BRIDGE_SCRIPT_NAME));
    expect(readFileSync(script.path).equals(SCRIPT)).toBe(true);
    expect(statSync(join(temp, dir!)).mode & 0o777).toBe(0o700);
    expect(statSync(script.path).mode & 0o777).toBe(0o600);
    await script.dispose();
    expect(readdirSync(temp)).toEqual([]);
    await script.dispose();
  });

  it("keeps bytes as they are (a BOM, CRLF, non-ASCII): PowerShell reads the file's encoding from them", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("# é\r\nWrite-Output 1\r\n")]);
    const script = await prepareBridgeScript({ sea: fakeSea({ [BRIDGE_SCRIPT_NAME]: bytes }), tempDir: temp });
    expect([...readFileSync(script.path)]).toEqual([...bytes]);
    await script.dispose();
  });

  it("an executable built without the asset: unavailable, naming it, nothing left behind", async () => {
    const error = await thrownAsync(prepareBridgeScript({ sea: fakeSea({}), tempDir: temp }), TransportError);
    expect(isTransportError(error, "unavailable")).toBe(true);
    expect(error.message).toMatch(
      /^cannot give PowerShell the bridge script: this executable holds no kvp-host-bridge\.ps1 \(Cannot find asset/,
    );
    expect(readdirSync(temp)).toEqual([]);
  });

  it("no temporary directory to write in: unavailable, naming where", async () => {
    const missing = join(temp, "no-such-dir");
    const error = await thrownAsync(
      prepareBridgeScript({ sea: fakeSea({ [BRIDGE_SCRIPT_NAME]: SCRIPT }), tempDir: missing }),
      TransportError,
    );
    expect(isTransportError(error, "unavailable")).toBe(true);
    expect(error.message).toBe(`cannot give PowerShell the bridge script: no private directory in ${missing} (ENOENT)`);
  });

  it("the asset name is the one packaging/build-sea.mjs embeds", () => {
    const builder = readFileSync(join(APP_DIR, "packaging", "build-sea.mjs"), "utf8");
    expect(builder).toContain(
      `const ASSETS = { "${BRIDGE_SCRIPT_NAME}": join(appDir, "powershell", "${BRIDGE_SCRIPT_NAME}") };`,
    );
  });
});

describe("the PowerShell client inside a single executable", () => {
  /**
   * A fake PowerShell (`node -e`) given the script's path: its hello carries the script's
   * length and first line, and each request is answered with whether the file still exists.
   */
  const fakeBridge = (exitBeforeHello = false) =>
    ({
      command: process.execPath,
      args: (path: string) => [
        "-e",
        `const fs = require("node:fs"); const path = process.argv[1];
         const send = (v) => process.stdout.write(JSON.stringify(v) + "\\n");
         if (${exitBeforeHello}) { process.stderr.write("cannot start\\n"); process.exit(3); }
         const text = fs.readFileSync(path, "utf8");
         send({ bridge: "kvp-host-bridge", protocol: ${PROTOCOL_VERSION}, psVersion: text.length + "|" + text.split("\\n")[0], psEdition: "Desktop" });
         require("node:readline").createInterface({ input: process.stdin }).on("line", (line) =>
           send({ id: JSON.parse(line).id, ok: true, result: [{ className: "Msvm_ComputerSystem", properties: { Name: "VM", ElementName: path + "|" + fs.existsSync(path) } }] }));`,
        path,
      ],
      sea: fakeSea({ [BRIDGE_SCRIPT_NAME]: SCRIPT }),
      tempDir: temp,
      startTimeoutMs: 20_000,
      requestTimeoutMs: 20_000,
    }) as const;

  it("PowerShell runs the asset's copy, which lives as long as the client and is removed once the bridge has ended", async () => {
    const t = await openPowerShellClient(fakeBridge());
    const firstLine = SCRIPT.toString("utf8").split("\n")[0];
    expect(t.hello.psVersion).toBe(`${SCRIPT.length}|${firstLine}`);
    const [vm] = await t.query("root/virtualization/v2", "SELECT * FROM Msvm_ComputerSystem");
    const [path, present] = String(vm!.properties.find((p) => p.name === "ElementName")?.value).split("|");
    expect(path!.startsWith(join(temp, BRIDGE_TEMP_PREFIX))).toBe(true);
    expect(present).toBe("true");
    t.close();
    await t.disposed;
    expect(existsSync(path!)).toBe(false);
    expect(readdirSync(temp)).toEqual([]);
  });

  it("a bridge that fails to start leaves no copy behind", async () => {
    const error = await thrownAsync(openPowerShellClient(fakeBridge(true)), TransportError);
    expect(error.code).toBe("lost");
    expect(readdirSync(temp)).toEqual([]);
  });

  it("with a fixed argument list (a stand-in that needs no script) nothing is written", async () => {
    const { args: _, ...rest } = fakeBridge();
    const t = await openPowerShellClient({
      ...rest,
      args: [
        "-e",
        `process.stdout.write(JSON.stringify({ bridge: "kvp-host-bridge", protocol: ${PROTOCOL_VERSION}, psVersion: "x", psEdition: "" }) + "\\n"); process.stdin.resume();`,
      ],
    });
    expect(readdirSync(temp)).toEqual([]);
    t.close();
    await t.exited;
  });
});
