/**
 * `@hyperv-kvp/pool-file`: Hyper-V KVP pool files from Node.js on the Linux guest, under the
 * locks `hv_kvp_daemon` takes: reading, in-place writes, long values as parts, repair,
 * watching, what the daemon synthesises for pool 2, and the locks themselves.
 */
export { PoolFileError, type PoolFileErrorCode, isPoolFileError } from "./errors.js";
export { DEFAULT_POOL_DIR, resolvePoolDir } from "./pool-dir.js";
export { type PoolTarget, describePool, poolTarget } from "./pool-target.js";
export { DEFAULT_LOCK_TIMEOUT_MS, type PoolAccessOptions } from "./pool-io.js";
export {
  type DeleteOptions,
  type PoolContent,
  type RepairAction,
  type SetOutcome,
  type WriteOptions,
  checkPoolFile,
  deleteRecord,
  forEachRecord,
  getRecord,
  readPool,
  repairPool,
  scanPool,
  setRecords,
} from "./pool-store.js";
export {
  type LogicalKeySelector,
  type LogicalKeysWhere,
  type LogicalSetOutcome,
  type LogicalWriteOptions,
  removeLogicalKeys,
  setLogicalValues,
} from "./pool-update.js";
export {
  type PoolChange,
  type PoolSnapshot,
  type PoolWatch,
  type SnapshotEntry,
  type WatchOptions,
  diffPools,
  snapshotPool,
  watchPool,
} from "./watch-pool.js";
export { AUTO_POOL_KEYS, type AutoPoolItem, type AutoPoolOptions, synthesizeAutoPool } from "./auto-pool.js";
export {
  type FileLock,
  type LockHolder,
  type LockMode,
  type LockOptions,
  findLockHolder,
  lockFile,
  tryLockFile,
} from "./lock.js";
export { PAGE_BYTES } from "./record-write-plan.js";
