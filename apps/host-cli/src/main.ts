import { Option } from "@commander-js/extra-typings";
import { type ErrorRule, errorsByCode, runCli } from "@hyperv-kvp/cli-kit";
import { isKvpError } from "@hyperv-kvp/kvp-core";
import { getCommand } from "./commands/get.js";
import { listCommand } from "./commands/list.js";
import { statusCommand } from "./commands/status.js";
import { vmsCommand } from "./commands/vms.js";
import { cloudInitCommand } from "./commands/cloud-init.js";
import { waitCommand } from "./commands/wait.js";
import { watchCommand } from "./commands/watch.js";
import { addCommand, removeCommand, setCommand } from "./commands/write.js";
import { type CliContext, processContext } from "./context.js";
import { type HostCliErrorCode, isHostCliError } from "./host-error.js";
import { POWERSHELL_ENV, hostSession } from "./host-session.js";
import { quotingHost } from "./host-text.js";
import { isTransportError } from "./transport-error.js";
import { VERSION } from "./version.js";

const TOOL = "kvp-host";

/** Examples for sh (Linux, macOS, WSL): quoting and `$(…)` as sh has them. */
const EXAMPLES_SH = `
Examples:
  export KVP_HOST_PASSWORD=…            (or type it at the prompt)
  kvp-host --host hv01 --user 'CORP\\admin' vms
  kvp-host --host hv01 --user admin list web01 --source guest
  kvp-host --host hv01 --user admin get web01 FullyQualifiedDomainName
  kvp-host --host hv01 --user admin set web01 role=web tier=1
  kvp-host --host hv01 --user admin set web01 --from-file facts.env --json
  kvp-host --host hv01 --user admin set web01 --chunk cloud-config="$(cat user-data)"
  kvp-host --host hv01 --user admin remove web01 role tier
  kvp-host --host hv01 --user admin status web01
  kvp-host --host hvclu01 --user 'CORP\\admin' --cluster set web01 role=web   (VM on any node)
  kvp-host --host hv01 --user admin watch web01 --json   (NDJSON, Ctrl-C stops)
  kvp-host --host hv01 --user admin wait web01 kvp-agent/status=ready --wait-timeout 5m
  kvp-host --host hv01 --user admin set web01 role=db --wait app/role-applied=db
  kvp-host --host hv01 --user admin cloud-init web01 --meta-data meta-data --user-data user-data \
      --network-config network-config --wait kvp-agent/status=ready
`;

/**
 * Examples for Windows. Every `kvp-host` line runs as written in PowerShell and in cmd, the
 * whole line: no quotes, no variables, no trailing notes, only characters neither shell
 * treats specially (main.test.ts checks it); where the two must differ (setting a variable),
 * each shell gets its own line.
 */
const EXAMPLES_WINDOWS = `
Examples (each kvp-host line runs as written in PowerShell and in cmd):
On the Hyper-V host, as an administrator (local PowerShell, no password):
  kvp-host vms
  kvp-host list web01 --source guest
  kvp-host set web01 role=web tier=1
  kvp-host watch web01 --json
From any machine, over WS-Management (--host or --endpoint). The password, unless typed at the prompt:
  PowerShell:  $env:KVP_HOST_PASSWORD = '…'
  cmd:         set "KVP_HOST_PASSWORD=…"
  kvp-host --host hv01 --user CORP\\admin vms
  kvp-host --host hv01 --user admin list web01 --source guest
  kvp-host --host hv01 --user admin get web01 FullyQualifiedDomainName
  kvp-host --host hv01 --user admin set web01 role=web tier=1
  kvp-host --host hv01 --user admin set web01 --from-file facts.env --json
  kvp-host --host hv01 --user admin set web01 --chunk --from-file user-data.json
  kvp-host --host hv01 --user admin remove web01 role tier
  kvp-host --host hv01 --user admin status web01
  kvp-host --host hvclu01 --user CORP\\admin --cluster set web01 role=web
  kvp-host --host hv01 --user admin watch web01 --json
  kvp-host --host hv01 --user admin wait web01 kvp-agent/status=ready --wait-timeout 5m
  kvp-host --host hv01 --user admin set web01 role=db --wait app/role-applied=db
  kvp-host --host hv01 --user admin cloud-init web01 --meta-data meta-data --user-data user-data --wait kvp-agent/status=ready
--from-file reads KEY=VALUE lines or a JSON object of strings ({"cloud-config": "…"}); --chunk
stores long values as parts; --cluster finds the VM on any node; watch --json prints NDJSON
until Ctrl-C; wait and --wait return when the guest's items show KEY=VALUE (exit 1 at --wait-timeout,
default 10m); cloud-init sends cloud-init's NoCloud documents.
`;

const HELP_NOTES = `
VM is a name or a GUID; a name several VMs share is an error that lists their GUIDs.
Writes go in batches of at most 128 items per call; set adds new keys and modifies stored ones.
Durations (--timeout, --job-timeout, --interval, --wait-timeout): 500ms, 30s, 2m; a bare number is seconds (deprecated).
With --json, a failure also prints {"error":{"code","message","exitCode"}} on stdout.
Exit codes: 0 ok, 1 VM or key not found, or wait/--wait timed out, 2 usage (incl. ambiguous VM name, value too long),
3 connection/authentication/IO, 4 the host refused or a job failed or timed out.`;

/** The help's examples for `platform`'s shells (PowerShell and cmd on win32, sh elsewhere), and the notes. */
function helpText(platform: string | undefined): string {
  return `${platform === "win32" ? EXAMPLES_WINDOWS : EXAMPLES_SH}${HELP_NOTES}`;
}

/**
 * kvp-host's error table, documented in its README: 1 not found, 2 usage, 3 the host could not
 * be reached or read, 4 the host refused the change. A transport's `config` error is options
 * that cannot work (2); any other transport failure is 3. kvp-core's errors here mean data
 * from the host we cannot read (user input is validated before anything is sent).
 */
export const HOST_ERRORS: readonly ErrorRule[] = [
  errorsByCode(
    isHostCliError,
    {
      usage: 2,
      ambiguous: 2,
      "not-found": 1,
      refused: 4,
      "job-failed": 4,
      "job-timeout": 4,
      "job-lost": 3,
      io: 3,
      "not-ready": 1,
    } satisfies Record<HostCliErrorCode, number>,
    3,
  ),
  // Transport and kvp-core messages may quote what the host sent: escaped and cut here, at
  // the edge (see host-text.ts).
  quotingHost(errorsByCode(isTransportError, { config: 2 }, 3)),
  quotingHost(errorsByCode(isKvpError, {}, 3, "unreadable answer from the host: ")),
];

/**
 * Runs kvp-host with `argv` (as `process.argv`: node, script, args…) and returns the exit
 * code; the kit's run loop reports every failure.
 */
export function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  return runCli(
    {
      tool: TOOL,
      version: VERSION,
      description:
        "Read and write Hyper-V KVP items of VMs from the host: over WS-Management (WinRM), or on the Hyper-V host itself through PowerShell.",
      configure: (program) =>
        program
          .option("--host <host>", "Hyper-V host name or address, HOST[:PORT] (https://HOST:5986/wsman)")
          .option("--endpoint <url>", "WS-Management endpoint URL instead of --host")
          .option(
            "--user <user>",
            "user name, DOMAIN\\user for a domain account; password from $KVP_HOST_PASSWORD or a prompt",
          )
          .addOption(new Option("--auth <kind>", "authentication").choices(["ntlm", "basic"]).default("ntlm"))
          .option("--ca <file>", "PEM CA certificate to trust for the host's TLS certificate")
          .option("--insecure", "do not verify the host's TLS certificate")
          .option(
            "--http",
            "plain HTTP on port 5985: with NTLM every message is sealed, as WinRM requires by default; --auth basic needs --allow-unencrypted",
          )
          .option(
            "--allow-unencrypted",
            "send SOAP unsealed over plain HTTP, for hosts with AllowUnencrypted=true (needed for --auth basic over HTTP): data, and with Basic the password, travel readable",
          )
          .option(
            "--timeout <duration>",
            "longest wait for one answer from the host: 30s, 2m (default 60s; a bare number is seconds, deprecated)",
          )
          .addOption(
            new Option(
              "--transport <kind>",
              "wsman: WS-Management to --host or --endpoint (the default when either is given, and off Windows); powershell: the host kvp-host runs on, through a PowerShell bridge (the default on Windows without --host or --endpoint)",
            ).choices(["wsman", "powershell"]),
          )
          .option(
            "--pwsh",
            `with the PowerShell transport: run pwsh (PowerShell 7) instead of powershell.exe ($${POWERSHELL_ENV} names another executable)`,
          )
          .option(
            "--cluster",
            "manage VMs of the whole failover cluster through root\\HyperVCluster\\v2 (--host: the cluster name or any node)",
          )
          .addHelpText("after", helpText(ctx.platform)),
      context: (run, program) => hostSession(run, program, ctx),
      commands: [
        vmsCommand,
        listCommand,
        getCommand,
        setCommand,
        addCommand,
        removeCommand,
        statusCommand,
        watchCommand,
        waitCommand,
        cloudInitCommand,
      ],
      errors: HOST_ERRORS,
    },
    argv,
    ctx,
  );
}
