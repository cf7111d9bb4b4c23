import { describe, expect, it } from "vitest";
import { bridgeEnvironment } from "./powershell.js";
import { powershellExecutable } from "./powershell-executable.js";

const files = (...paths: string[]) => {
  const set = new Set(paths.map((p) => p.toLowerCase()));
  return (path: string) => set.has(path.toLowerCase());
};

describe("the PowerShell executable: from the system directory, never the current one", () => {
  it("Windows PowerShell is %SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", () => {
    expect(powershellExecutable({ platform: "win32", env: { SystemRoot: "D:\\WINNT" }, exists: files() })).toBe(
      "D:\\WINNT\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    );
    // windir when SystemRoot is missing; C:\Windows when neither is an absolute path.
    expect(powershellExecutable({ platform: "win32", env: { windir: "E:\\Windows" }, exists: files() })).toBe(
      "E:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    );
    expect(powershellExecutable({ platform: "win32", env: { SystemRoot: "evil" }, exists: files() })).toBe(
      "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    );
  });

  it("pwsh is looked up on PATH by us, in absolute directories only", () => {
    const env = { Path: ".;tools;C:\\Program Files\\PowerShell\\7;\\\\server\\share" };
    const exists = files(".\\pwsh.exe", "tools\\pwsh.exe", "C:\\Program Files\\PowerShell\\7\\pwsh.exe");
    expect(powershellExecutable({ platform: "win32", env, pwsh: true, exists })).toBe(
      "C:\\Program Files\\PowerShell\\7\\pwsh.exe",
    );
    expect(powershellExecutable({ platform: "win32", env: { Path: ".;tools" }, pwsh: true, exists })).toBeUndefined();
    expect(
      powershellExecutable({
        platform: "linux",
        env: { PATH: "bin:/usr/local/bin:/opt/microsoft/powershell/7" },
        pwsh: true,
        exists: files("bin/pwsh", "/opt/microsoft/powershell/7/pwsh"),
      }),
    ).toBe("/opt/microsoft/powershell/7/pwsh");
  });

  it("an explicit executable is used as given", () => {
    expect(powershellExecutable({ platform: "win32", env: {}, command: "D:\\ps\\pwsh.exe", exists: files() })).toBe(
      "D:\\ps\\pwsh.exe",
    );
  });
});

describe("the bridge's environment: an allow-list, the password never in it", () => {
  it("passes what PowerShell needs to start and drops the rest", () => {
    const env = {
      SystemRoot: "C:\\Windows",
      windir: "C:\\Windows",
      SystemDrive: "C:",
      TEMP: "C:\\Temp",
      TMP: "C:\\Temp",
      USERPROFILE: "C:\\Users\\a",
      LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local",
      APPDATA: "C:\\Users\\a\\AppData\\Roaming",
      ProgramData: "C:\\ProgramData",
      Path: "C:\\Windows\\System32",
      PATHEXT: ".EXE",
      COMPUTERNAME: "HV01",
      HOME: "/home/a",
      KVP_HOST_PASSWORD: "S3cret!",
      AWS_SECRET_ACCESS_KEY: "k",
      NODE_OPTIONS: "--require evil.js",
      PSModulePath: "C:\\pwsh\\Modules",
    };
    const out = bridgeEnvironment(env);
    expect(out).toEqual({
      SystemRoot: "C:\\Windows",
      windir: "C:\\Windows",
      SystemDrive: "C:",
      TEMP: "C:\\Temp",
      TMP: "C:\\Temp",
      USERPROFILE: "C:\\Users\\a",
      LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local",
      APPDATA: "C:\\Users\\a\\AppData\\Roaming",
      ProgramData: "C:\\ProgramData",
      Path: "C:\\Windows\\System32",
      PATHEXT: ".EXE",
      COMPUTERNAME: "HV01",
      HOME: "/home/a",
    });
    expect(JSON.stringify(out)).not.toContain("S3cret");
  });
});
