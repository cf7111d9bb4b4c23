import { createInterface } from "node:readline";
import type { CliCommand } from "@hyperv-kvp/cli-kit";
import { serve } from "../index.js";
import type { SimCli } from "./context.js";
import { migrateCommand } from "./migrate.js";
import { addServeOptions, serveArgsOf, serveOptionsOf } from "./serve-options.js";

/**
 * `hyperv-sim serve`: prints one JSON line describing the host, serves until SIGTERM/SIGINT
 * (exit 0). With `--cluster`, lines `migrate VM NODE` on a piped stdin live-migrate a VM.
 */
export const serveCommand: CliCommand<SimCli> = {
  name: "serve",
  define: (command, { run, ctx }) =>
    addServeOptions(
      command.description(
        "start a simulated Hyper-V host with WMI over WS-Management on 127.0.0.1, print one JSON line describing it, serve until stopped",
      ),
    )
      .addHelpText(
        "after",
        "\nBy default it listens as a Windows host does out of the box: plain HTTP, NTLM only, every\n" +
          "message sealed (WinRM's AllowUnencrypted=false).\n" +
          "With --cluster, lines `migrate VM NODE` on a piped stdin live-migrate a VM (by name or GUID).\n" +
          "Examples:\n" +
          "  hyperv-sim serve --vms web01,db01\n" +
          "  hyperv-sim serve --https --password secret --daemon model\n" +
          "  hyperv-sim serve --cluster HVCLU01 --node HV01:web01,db01 --node HV02:web02",
      )
      .action(async (_opts, command) => {
        const options = serveOptionsOf(serveArgsOf(command));
        const stop = run.signal;
        const handle = await serve(options, ctx.stdout, ctx.stderr);
        const cluster = handle.cluster;
        let lines: ReturnType<typeof createInterface> | undefined;
        // Only from a pipe or file: reading a terminal would stop a `serve … &` with SIGTTIN.
        if (cluster !== undefined && ctx.stdin.isTTY !== true) {
          lines = createInterface({ input: ctx.stdin });
          lines.on("line", (line) => {
            void migrateCommand(cluster, line).then(
              (done) => done && ctx.stdout.write(`${JSON.stringify({ migrated: done })}\n`),
              (error: unknown) =>
                ctx.stderr.write(`${run.tool}: ${error instanceof Error ? error.message : String(error)}\n`),
            );
          });
        }
        await new Promise<void>((resolve) => {
          if (stop.aborted) resolve();
          else stop.addEventListener("abort", () => resolve(), { once: true });
        });
        lines?.close();
        await handle.close();
      }),
};
