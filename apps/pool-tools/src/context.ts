import type { KvpRecord } from "@hyperv-kvp/kvp-core";

/** What commands touch outside themselves, injectable so tests run them in process. */
export interface CliContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Record<string, string | undefined>;
  /** Reads standard input to the end (for `--from-file -`). */
  readonly readStdin: () => Promise<string>;
  /**
   * What hv_kvp_daemon would send for pool 2 on this machine (`list`); default pool-file's
   * `synthesizeAutoPool`, which asks the C library, the resolver and os-release.
   */
  readonly synthesizeAutoPool?: () => readonly KvpRecord[];
}

/** The real process's streams and environment. */
export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}
