/**
 * Carries out a started KVP method job on the guest: its SETs and DELETEs on pool 0, through
 * the VM's daemon, then finishes the job in the model (Completed, or Exception with why).
 */
import { HvStatus } from "../device/device-message.js";
import type { GuestAccess } from "./guest-registry.js";
import type { HostModel, JobFailure } from "./host-model.js";
import type { StartedJob } from "./method-requests.js";
import { RETURN_VALUES } from "./wmi-classes.js";

/** How jobs run on a host. */
export interface KvpJobOptions {
  /** Milliseconds a job stays Running before it is applied; default 0. */
  readonly jobDelayMs?: number;
  /** Awaited before a job is applied: holds jobs while a host is paused. */
  readonly jobGate?: () => Promise<void>;
}

/**
 * Applies `started` to its VM's guest and finishes the job. Never rejects: a guest that
 * refuses or fails ends the job in Exception (ErrorCode 32768) after the items applied so far.
 */
export async function applyKvpJob(
  model: HostModel,
  guest: GuestAccess,
  started: StartedJob,
  options: KvpJobOptions = {},
): Promise<void> {
  const { job, operations, failure } = started;
  if (options.jobDelayMs !== undefined && options.jobDelayMs > 0)
    await new Promise((r) => setTimeout(r, options.jobDelayMs));
  await options.jobGate?.();
  if (operations.length === 0) {
    model.finishJob(job.instanceId, failure);
    return;
  }
  const vmGuid = operations[0]!.vmGuid;
  let problem: JobFailure | undefined;
  try {
    await guest.run(vmGuid, async (host) => {
      for (const op of operations) {
        const status = op.kind === "set" ? await host.set(0, op.key, op.value) : await host.delete(0, op.key);
        if (status !== HvStatus.OK) {
          problem = {
            errorCode: RETURN_VALUES.failed,
            cimStatusCode: 1,
            description: `The guest's KVP service refused to ${op.kind === "set" ? "set" : "delete"} item ${JSON.stringify(op.key)} (status 0x${status.toString(16).padStart(8, "0")}); earlier items of this call were applied.`,
          };
          return;
        }
      }
    });
  } catch (error) {
    problem = {
      errorCode: RETURN_VALUES.failed,
      cimStatusCode: 1,
      description: `The guest's KVP service failed: ${(error as Error).message}`,
    };
  }
  // An injected failure lets its first operations apply, then fails the job all the same.
  model.finishJob(job.instanceId, problem ?? failure);
}
