// Helpers for tests that drive the real hv_kvp_daemon, shared with other packages' interop
// tests through the "./test-support" subpath: the policy that never lets them skip
// silently, and raw pool bytes for files no well-behaved writer would produce.
export {
  ALLOW_NO_DAEMON_ENV,
  type RealDaemonPolicy,
  realDaemonPolicy,
  standInForMissingDaemon,
} from "./real-daemon-policy.js";
export {
  type ExpectedPool,
  type FieldBytes,
  concatBytes,
  expectedPool,
  freshRecord,
  knownMismatches,
  knownRecord,
  rawRecord,
} from "./pool-bytes.js";
