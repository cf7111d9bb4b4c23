export { KvpError, type KvpErrorCode, isKvpError } from "./errors.js";
export * from "./layout.js";
export {
  type DecodedPool,
  type DecodedRecord,
  type EncodeRecordOptions,
  type KvpRecord,
  type RecordLimits,
  assertHostVisible,
  decodePool,
  decodeRecord,
  encodePool,
  encodeRecord,
  fieldTextLength,
  isHostVisible,
  validateRecord,
} from "./record.js";
export {
  type DeleteOptions,
  type MatchOptions,
  type UpsertEdit,
  deleteRecords,
  findRecord,
  keyMatcher,
  upsertRecord,
} from "./pool-ops.js";
export {
  type CheckOptions,
  DEFAULT_MAX_DIAGNOSTICS_PER_CODE,
  type DiagnosticCode,
  type PoolDiagnostic,
  type PoolReport,
  type Severity,
  PoolChecker,
  checkPool,
  garbageAfterNul,
} from "./check-pool.js";
export {
  GUEST_POOL,
  POOLS,
  type PoolInfo,
  type PoolName,
  type PoolNumber,
  parsePool,
  poolFileName,
} from "./pools.js";
export { decodeUtf8, encodeUtf8, findInvalidUtf8, findLoneSurrogate, utf16Units, utf8BoundaryAtOrBefore } from "./utf8.js";
export { type KernelUtf16Result, kernelUtf16ToUtf8, kernelUtf8ToUtf16 } from "./kernel-text.js";
