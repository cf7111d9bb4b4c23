// What a test suite needs of a simulated Hyper-V host: a guest with its KVP daemon (the real
// hv_kvp_daemon or the model of it) behind the emulated device, and hosts, in process or
// served, and clusters that speak WMI over WS-Management. The device codec, the kernel
// relay, the WQL parser and the handlers stay internal: they are the simulator's insides.
export { SimError, type SimErrorCode, isSimError } from "./errors.js";

// The guest's device side (src/device/).
export { HvStatus } from "./device/device-message.js";
export type { HostReply, HostRequest } from "./device/kernel-relay.js";
export type { DaemonChannel, DaemonKind } from "./device/daemon-channel.js";
export type { BuildShimOptions } from "./device/build-shim.js";
export { RealDaemon, type RealDaemonOptions } from "./device/real-daemon.js";
export { ModelDaemon, type ModelDaemonOptions } from "./device/model-daemon.js";
export {
  type EnumerateResult,
  type HostRecord,
  type HostWritablePool,
  SimulatedHost,
  type SimulatedHostOptions,
  startSimulatedHost,
} from "./device/simulated-host.js";

// The WMI side (src/wmi/).
export {
  HostModel,
  type HostModelOptions,
  type JobFailure,
  type JobState,
  type KvpMethodCall,
  type KvpMethodFault,
  type KvpOperation,
  type MethodOutcome,
  type VmState,
} from "./wmi/host-model.js";
export type { KvpMethod } from "./wmi/wmi-classes.js";
export type { GuestAccess, GuestRegistry, WmiHostVm } from "./wmi/guest-registry.js";
export {
  type InProcessWmiHost,
  type InProcessWmiHostOptions,
  type WmiHost,
  type WmiHostOptions,
  type WmiNamespaceRoute,
  type WmiVmInit,
  startInProcessWmiHost,
  startWmiHost,
} from "./wmi/wmi-server.js";
export { type InProcessClientOptions, InProcessWsmanClient } from "./wmi/in-process-client.js";
export type { ClusterModel, ClusterVm } from "./wmi/cluster-model.js";
export {
  type WmiCluster,
  type WmiClusterNode,
  type WmiClusterNodeInit,
  type WmiClusterOptions,
  type WmiClusterVm,
  startWmiCluster,
} from "./wmi/cluster.js";

// Serving it as `hyperv-sim serve` does, and the certificate for HTTPS.
export {
  type ServeHandle,
  type ServeInfo,
  type ServeOptions,
  type ServeVmInfo,
  serve,
} from "./serve.js";
export { type SelfSignedCertificate, makeSelfSignedCertificate } from "./self-signed-certificate.js";
