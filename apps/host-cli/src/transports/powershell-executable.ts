/**
 * Which PowerShell the bridge starts, as a pure function of the platform and environment.
 * Naming `powershell.exe` bare lets Windows search the current directory first (a file
 * dropped there by anyone who can write to it would run as the user, with the bridge's
 * requests), so:
 * - Windows PowerShell is `%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe`
 *   (`windir` when SystemRoot is unset; `C:\Windows` when neither is an absolute path);
 * - `pwsh` (and anything else not given as a path) is looked up on PATH by us, in absolute
 *   directories only: `.` or `tools` in PATH are skipped, so the current directory never is;
 * - an executable named explicitly ($KVP_HOST_POWERSHELL) is used as given.
 */

/** What {@link powershellExecutable} looks at. */
export interface ExecutableQuery {
  /** `process.platform`. */
  readonly platform: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** PowerShell 7 (`pwsh`) instead of Windows PowerShell. */
  readonly pwsh?: boolean;
  /** An executable the user named: used as it is. */
  readonly command?: string;
  /** Whether `path` is an existing file (tests pass a set; the CLI `fs.statSync`). */
  readonly exists: (path: string) => boolean;
}

const WINDOWS_ABSOLUTE = /^[A-Za-z]:\\/;

/** The environment variable of `name` in any case (Windows names are case-insensitive). */
function envValue(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(env)) if (key.toLowerCase() === lower && value) return value;
  return undefined;
}

/** The absolute path of the executable to start, or undefined when PATH has none. */
export function powershellExecutable(query: ExecutableQuery): string | undefined {
  if (query.command !== undefined) return query.command;
  const windows = query.platform === "win32";
  if (windows && !query.pwsh) {
    const root =
      [envValue(query.env, "SystemRoot"), envValue(query.env, "windir")].find(
        (r) => r !== undefined && WINDOWS_ABSOLUTE.test(r),
      ) ?? "C:\\Windows";
    return `${root.replace(/\\+$/, "")}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
  }
  const name = query.pwsh ? (windows ? "pwsh.exe" : "pwsh") : "powershell.exe";
  const path = envValue(query.env, "PATH") ?? "";
  for (const dir of path.split(windows ? ";" : ":")) {
    const absolute = windows ? WINDOWS_ABSOLUTE.test(dir) : dir.startsWith("/");
    if (!absolute) continue;
    const candidate = windows ? `${dir.replace(/\\+$/, "")}\\${name}` : `${dir.replace(/\/+$/, "")}/${name}`;
    if (query.exists(candidate)) return candidate;
  }
  return undefined;
}
