/**
 * `@hyperv-kvp/wsman`: WS-Management for Hyper-V's WMI. A client (`WsmanClient`) and a server
 * helper (`createWsmanServer`) over HTTP(S) with Basic or NTLMv2 and NTLM message sealing, the
 * values and instances they exchange, and the SOAP messages of Get, Enumerate and Invoke for
 * code that carries them some other way. NTLM, sealing and the SOAP plumbing stay inside.
 */
export { type WsmanErrorCode, type WsmanFault, WsmanError, isWsmanError } from "./errors.js";
export { type WsmanAuth, WsmanClient, type WsmanClientOptions } from "./http/client.js";
export {
  type AuthFailure,
  type WsmanHandler,
  type WsmanHandlerResult,
  type WsmanServer,
  type WsmanServerEvent,
  type WsmanServerMode,
  type WsmanServerOptions,
  createWsmanServer,
} from "./http/server.js";
export {
  type EmbedStyle,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanProperties,
  type WsmanReference,
  type WsmanReferences,
  type WsmanSkippedItem,
  type WsmanValue,
  valueAsArray,
} from "./soap/values.js";
export {
  type WsmanRequest,
  type WsmanRequestCommon,
  type WsmanRequestOptions,
  buildEnumerateRequest,
  buildGetRequest,
  buildInvokeRequest,
  parseRequest,
} from "./soap/requests.js";
export {
  type EnumerationPage,
  type InvokeResult,
  buildEnumerateResponse,
  buildGetResponse,
  buildInvokeResponse,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
} from "./soap/responses.js";
export type { ResponseOptions } from "./soap/envelope.js";
export { type WsmanFaultInit, buildFault } from "./soap/faults.js";
export { WQL_DIALECT } from "./soap/namespaces.js";
export { DEFAULT_SOAP_LIMITS } from "./soap/xml-tree.js";
