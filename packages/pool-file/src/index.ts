export { PoolFileError, type PoolFileErrorCode, isPoolFileError } from "./errors.js";
export { DEFAULT_POOL_DIR, POOL_DIR_ENV, poolPath, resolvePoolDir } from "./pool-dir.js";
export { type PoolTarget, describePool, poolTarget, writeRefusal } from "./pool-target.js";
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
  setRecords,
} from "./pool-store.js";
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
export { PAGE_BYTES, type PlannedWrite, planRecordWrite, planShiftWrite, readsTheSame } from "./record-write-plan.js";
export { type FileLock, type LockMode, type LockOptions, findLockHolder, lockFile, tryLockFile } from "./lock.js";
export { type AutoPoolOptions, synthesizeAutoPool } from "./auto-pool.js";
export {
  type LogicalKeySelector,
  type LogicalSetOutcome,
  type LogicalWriteOptions,
  removeLogicalKeys,
  setLogicalValues,
} from "./pool-update.js";
