// Helpers shared by the workspace's tests; never published. The main entry point is pure
// (no node:*), so kvp-core's tests, typechecked without Node types, can use it; the policy
// for tests that need real tools is the "./tools" subpath.
export { type ErrorClass, thrown, thrownAsync } from "./thrown.js";
export { waitFor } from "./wait-for.js";
export {
  type ExpectedPool,
  type FieldBytes,
  KEY_BYTES,
  RECORD_SIZE,
  VALUE_BYTES,
  concatBytes,
  expectedPool,
  freshRecord,
  fromHex,
  knownMismatches,
  knownRecord,
  rawRecord,
  repeatByte,
  toHex,
  utf8,
} from "./pool-bytes.js";
