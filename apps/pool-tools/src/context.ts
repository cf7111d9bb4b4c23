import { type CliIo, type CliRun, processIo } from "@hyperv-kvp/cli-kit";
import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import type { CommonOptions } from "./commands/pool-option.js";

/** What commands touch outside themselves, injectable so tests run them in process. */
export interface CliContext extends CliIo {
  /** Reads standard input to the end (for `--from-file -`); a string counts as decoded. */
  readonly readStdin: () => Promise<string | Uint8Array>;
  /**
   * What hv_kvp_daemon would send for pool 2 on this machine (`list`); default pool-file's
   * `synthesizeAutoPool`, which asks the C library, the resolver and os-release.
   */
  readonly synthesizeAutoPool?: () => readonly KvpRecord[];
}

/** What each command module gets: the kit's run, the context, and the global options. */
export interface PoolCli {
  readonly run: CliRun;
  readonly ctx: CliContext;
  /** `--dir` and `--timeout`, read when a command runs. */
  readonly globals: () => CommonOptions;
}

/** The real process's streams and environment. */
export function processContext(): CliContext {
  return {
    ...processIo(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}
