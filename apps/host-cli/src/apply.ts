/**
 * Running a plan's calls in order and saying exactly what happened when one fails: a call
 * that completed (return 0, or its job Completed) is applied; the calls after a failure are
 * not made; for the failing call itself Hyper-V does not say whether part of it was applied
 * (UNVERIFIED: docs/wmi-and-cim.md#unverified-hyper-v-behaviour), so the host is read again
 * and each of its items reported as
 * applied or not, or as unknown when that read fails too.
 */
import { type KvpRecord } from "@hyperv-kvp/kvp-core";
import {
  type WmiError,
  describeJobFailure,
  describeReturnCode,
  encodeKvpItem,
  isJobSuccessful,
} from "@hyperv-kvp/kvp-core/cim";
import { HostCliError } from "./host-error.js";
import { type JobWaitOptions, waitForJob } from "./jobs.js";
import { type Batch, listKeys } from "./plan.js";
import type { HyperVWmi, KvpMethod, VmInfo } from "./hyperv-wmi.js";
import { hostText, quoted } from "./host-text.js";

/** Options of {@link applyBatches}. */
export interface ApplyOptions extends JobWaitOptions {
  /** Source of the items: host (HostExchangeItems, default) or host-only (HostOnlyItems). */
  readonly source?: "host" | "host-only";
  /**
   * Reads the stored items again after a failure (key → value), to tell which items of the
   * failed call were applied; undefined or a throw leaves them unknown.
   */
  readonly reread?: () => Promise<ReadonlyMap<string, string>>;
}

const VERB: Record<KvpMethod, string> = { AddKvpItems: "add", ModifyKvpItems: "modify", RemoveKvpItems: "remove" };

/** The DataItems of a batch: each item as the embedded CIM-XML Hyper-V reads. */
export function dataItemsOf(batch: Batch, source: "host" | "host-only"): string[] {
  return batch.items.map((item) => encodeKvpItem({ name: item.key, data: item.value, source }));
}

/** Whether `item` of a `method` call shows as applied in `stored`. */
function appliedIn(method: KvpMethod, item: KvpRecord, stored: ReadonlyMap<string, string>): boolean {
  return method === "RemoveKvpItems" ? !stored.has(item.key) : stored.get(item.key) === item.value;
}

/**
 * Makes the calls of `batches` for `vm` one after the other, waiting for each job.
 * @returns the number of method calls made.
 * @throws {HostCliError} `refused` (an error return code), `job-failed`, `job-timeout`,
 *   `job-lost` (the job could not be read to its end: host restarted, connection lost); the
 *   message names the VM, the keys, the return code's meaning and the job's error text, then
 *   which items are applied, not applied or unknown; `details` holds the same as lists.
 */
export async function applyBatches(
  wmi: HyperVWmi,
  vm: VmInfo,
  batches: readonly Batch[],
  options: ApplyOptions = {},
): Promise<number> {
  const source = options.source ?? "host";
  const applied: string[] = [];
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    const keys = batch.items.map((item) => item.key);
    const what = `cannot ${VERB[batch.method]} ${keys.length === 1 ? "the item" : `${keys.length} items`} ${listKeys(keys)} ${source === "host-only" ? "(host-only) " : ""}of VM ${quoted(vm.name)} (${vm.id})`;
    let failure: { code: "refused" | "job-failed" | "job-timeout"; reason: string } | undefined;
    const result = await wmi.invokeKvpMethod(batch.method, vm.id, dataItemsOf(batch, source));
    if (result.returnValue === 4096) {
      if (result.jobId === undefined) {
        throw new HostCliError("io", `${what}: ${batch.method} started a job (4096) but returned no job reference`);
      }
      let waited: Awaited<ReturnType<typeof waitForJob>>;
      try {
        waited = await waitForJob(wmi, result.jobId, options);
      } catch (error) {
        // The call was accepted, so its items may be applied: losing the job (host restarted,
        // connection dropped, job gone) is reported like a failed job, with what the host
        // shows now, not as a bare connection error that would hide that.
        const reason = `lost track of its job ${result.jobId} (${oneLine(error)}); the host may have restarted`;
        throw await partialFailure({ code: "job-lost", reason }, what, batch, batches.slice(i + 1), applied, options);
      }
      if (!waited.finished) {
        failure = {
          code: "job-timeout",
          reason: `${describeJobFailure(waited.job)} after ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s; it may still complete`,
        };
      } else if (!isJobSuccessful(waited.job.jobState)) {
        const errors: WmiError[] = await wmi.getJobErrors(result.jobId).catch(() => []);
        failure = { code: "job-failed", reason: describeJobFailure(waited.job, errors) };
      }
    } else if (result.returnValue !== 0) {
      failure = { code: "refused", reason: `${batch.method} returned ${describeReturnCode(result.returnValue)}` };
    }
    if (failure === undefined) {
      applied.push(...keys);
      continue;
    }
    throw await partialFailure(failure, what, batch, batches.slice(i + 1), applied, options);
  }
  return batches.length;
}

/** A transport error's message (which may quote the host) for a HostCliError, printed as it is: escaped and cut here. */
function oneLine(error: unknown): string {
  return hostText((error instanceof Error ? error.message : String(error)).split("\n")[0]!);
}

async function partialFailure(
  failure: { code: "refused" | "job-failed" | "job-timeout" | "job-lost"; reason: string },
  what: string,
  batch: Batch,
  later: readonly Batch[],
  applied: readonly string[],
  options: ApplyOptions,
): Promise<HostCliError> {
  const notApplied = later.flatMap((b) => b.items.map((item) => item.key));
  const failedApplied: string[] = [];
  const failedNot: string[] = [];
  const unknown: string[] = [];
  let stored: ReadonlyMap<string, string> | undefined;
  if (options.reread !== undefined) stored = await options.reread().catch(() => undefined);
  for (const item of batch.items) {
    if (stored === undefined) unknown.push(item.key);
    else if (appliedIn(batch.method, item, stored)) failedApplied.push(item.key);
    else failedNot.push(item.key);
  }
  const allApplied = [...applied, ...failedApplied];
  const allNot = [...failedNot, ...notApplied];
  const lines = [`${what}: ${failure.reason}`];
  lines.push(allApplied.length === 0 ? "applied: none" : `applied: ${allApplied.length} (${listKeys(allApplied)})`);
  if (allNot.length > 0) lines.push(`not applied: ${allNot.length} (${listKeys(allNot)})`);
  if (unknown.length > 0)
    lines.push(`unknown (the host could not be read again): ${unknown.length} (${listKeys(unknown)})`);
  return new HostCliError(failure.code, lines.join("\n"), undefined, {
    applied: allApplied,
    notApplied: allNot,
    unknown,
    reason: failure.reason,
  });
}
