export { SimError, type SimErrorCode, isSimError } from "./errors.js";
export {
  type ExchangeData,
  HvStatus,
  KERNEL_VERSION,
  type KvpBody,
  type KvpMessage,
  KvpOp,
  type KvpOpCode,
  type KvpReply,
  MESSAGE_BYTES,
  MessageLayout,
  REGISTER_VERSION_BYTES,
  REG_SZ,
  bodyKindOf,
  decodeKvpMessage,
  decodeKvpReply,
  encodeField,
  encodeKvpMessage,
  encodeKvpReply,
  fieldString,
} from "./device-message.js";
export {
  HOST_KEY_MAX_UNITS,
  HOST_VALUE_MAX_UNITS,
  type HostReply,
  type HostRequest,
  toDaemonRequest,
  toHostReply,
} from "./kernel-relay.js";
export { MessageFramer } from "./message-framer.js";
export type { DaemonChannel, DaemonKind } from "./daemon-channel.js";
export { type BuildShimOptions, COMPILER_ENV, buildShim, isCompilerAvailable } from "./build-shim.js";
export {
  DAEMON_PATH_ENV,
  DEFAULT_DAEMON_PATH,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
  RealDaemon,
  type RealDaemonOptions,
  SHIM_POOL_DIR_ENV,
  SHIM_SOCKET_ENV,
  SHIM_STALL_FILE_ENV,
  isDaemonInstalled,
  resolveDaemonPath,
} from "./real-daemon.js";
export { DaemonPoolMemory } from "./daemon-pool-memory.js";
export { ModelDaemon, type ModelDaemonOptions } from "./model-daemon.js";
export { DEFAULT_HOST_FACTS, hostFacts } from "./host-facts.js";
export {
  DEFAULT_ENUMERATE_LIMIT,
  type EnumerateResult,
  type HostRecord,
  type HostWritablePool,
  SimulatedHost,
  type SimulatedHostOptions,
  startSimulatedHost,
} from "./simulated-host.js";
export { MAX_WQL_CONDITIONS, MAX_WQL_LENGTH, type WqlCondition, type WqlQuery, parseWql } from "./wmi/wql.js";
export {
  COMPONENT_STATUS,
  DEFAULT_JOB_RETENTION_MS,
  DEFAULT_MAX_JOBS,
  HostModel,
  type HostModelOptions,
  JOB_STATE,
  type JobFailure,
  type JobState,
  type KvpMethod,
  type KvpMethodCall,
  type KvpMethodFault,
  type KvpOperation,
  type MethodOutcome,
  RETURN_VALUES,
  V2_NAMESPACE,
  V2_RESOURCE_URI,
  type VmState,
  WMI_CLASSES,
  matchesConditions,
} from "./wmi/host-model.js";
export {
  type InProcessWmiHost,
  type InProcessWmiHostOptions,
  type WmiHost,
  type WmiHostOptions,
  type WmiVmInit,
  createWmiHandler,
  startInProcessWmiHost,
  startWmiHost,
} from "./wmi/wmi-server.js";
export { type InProcessClientOptions, InProcessWsmanClient } from "./wmi/in-process-client.js";
export { hostComputerSystemOf, managementServiceOf } from "./wmi/host-model.js";
export { type WmiNamespaceRoute, classOfResourceUri } from "./wmi/wmi-server.js";
export { type GuestAccess, GuestRegistry, type WmiHostVm } from "./wmi/guest-registry.js";
export {
  CLUSTER_NAMESPACE,
  CLUSTER_RESOURCE_URI,
  ClusterModel,
  type ClusterVm,
  assertClusterShape,
  inNamespace,
} from "./wmi/cluster-model.js";
export {
  type WmiCluster,
  type WmiClusterNode,
  type WmiClusterNodeInit,
  type WmiClusterOptions,
  type WmiClusterVm,
  createClusterHandler,
  startWmiCluster,
} from "./wmi/cluster.js";
export { type ServeHandle, type ServeInfo, type ServeOptions, type ServeVmInfo, serve } from "./serve.js";
export { type SelfSignedCertificate, makeSelfSignedCertificate } from "./self-signed-certificate.js";
