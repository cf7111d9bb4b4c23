/**
 * `@hyperv-kvp/kvp-core`: the KVP record and pool formats as `hv_kvp_daemon` keeps them,
 * the daemon's pool semantics, long values split into parts, and pool diagnostics. The
 * CIM-XML that Hyper-V's WMI speaks is the subpath `@hyperv-kvp/kvp-core/cim`, so code that
 * only handles pools never loads an XML parser.
 */
export { KvpError, type KvpErrorCode, isKvpError } from "./errors.js";
export {
  HOST_MAX_KEY_UNITS,
  HOST_MAX_VALUE_UNITS,
  KEY_FIELD_BYTES,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
} from "./layout.js";
export {
  type DecodedPool,
  type DecodedRecord,
  type EncodeRecordOptions,
  type KvpRecord,
  type RecordLimits,
  decodePool,
  decodeRecord,
  encodePool,
  encodeRecord,
  fieldTextLength,
  mayHoldLogicalKey,
  recordsThatMayHold,
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
  type DiagnosticCode,
  type PoolDiagnostic,
  type PoolReport,
  type Severity,
  PoolChecker,
  checkPool,
} from "./check-pool.js";
export { POOLS, type PoolInfo, type PoolNumber, parsePool, poolFileName } from "./pools.js";
export {
  type ChunkKey,
  type ChunkProblem,
  type ChunkProblemReason,
  type LogicalRecord,
  MAX_CHUNK_UNITS,
  type Reassembled,
  type ReassembledRecord,
  type StoredLogicalRecord,
  chunkKey,
  isPartOf,
  logicalKeyOf,
  parseChunkKey,
  reassembleRecords,
  splitValue,
} from "./chunking.js";
export {
  CLOUD_INIT_DOCUMENTS,
  CLOUD_INIT_KEYS,
  type CloudInitDocumentName,
  MAX_CLOUD_INIT_DOCUMENT_BYTES,
  MAX_CLOUD_INIT_DOCUMENT_PARTS,
  checkCloudInitDocument,
  cloudInitDocumentProblem,
  decodeCloudInitDocument,
  hasInstanceId,
} from "./cloud-init.js";
export { decodeUtf8, encodeUtf8, findLoneSurrogate, utf16Units, utf8BoundaryAtOrBefore } from "./utf8.js";
export { type KernelUtf16Result, kernelUtf16ToUtf8, kernelUtf8ToUtf16 } from "./kernel-text.js";
