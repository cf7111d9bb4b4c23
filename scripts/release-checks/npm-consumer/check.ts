import { type KvpRecord, RECORD_BYTES, decodePool, encodePool, isKvpError } from "@hyperv-kvp/kvp-core";
import { type DecodedKvpItem, decodeKvpItem, encodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import { type PoolTarget, isPoolFileError, poolTarget, readPool, setRecords } from "@hyperv-kvp/pool-file";
import { WsmanClient, type WsmanClientOptions, isWsmanError } from "@hyperv-kvp/wsman";
import { type SimulatedHost, startSimulatedHost } from "@hyperv-kvp/hyperv-sim";
// @ts-expect-error test support is never published
import { realDaemonPolicy } from "@hyperv-kvp/hyperv-sim/test-support";
// @ts-expect-error only the package's entry points are exported
import { encodeRecord } from "@hyperv-kvp/kvp-core/dist/record.js";
// @ts-expect-error the CIM-XML part is kvp-core's subpath /cim, not its main entry point
import { toCimXml } from "@hyperv-kvp/kvp-core";

const records: KvpRecord[] = [{ key: "Role", value: "web" }];
export const count: number = encodePool(records).length / RECORD_BYTES;
export const keys: string[] = decodePool(encodePool(records)).records.map((r) => r.key);
export const item: DecodedKvpItem = decodeKvpItem(encodeKvpItem({ name: "Role", data: "web", source: "guest" }));
// @ts-expect-error a record's value is a string
encodePool([{ key: "Role", value: 1 }]);

export async function roundTrip(dir: string): Promise<string[]> {
  const target: PoolTarget = poolTarget("guest", dir);
  await setRecords(target, records, { create: true });
  return (await readPool(target)).records.map((r) => `${r.key}=${r.value}`);
}
export function clientFor(endpoint: string, password: string): WsmanClient {
  const options: WsmanClientOptions = { endpoint, auth: { kind: "ntlm", user: "Administrator", password } };
  return new WsmanClient(options);
}
export async function simulated(): Promise<SimulatedHost> {
  return startSimulatedHost({ daemon: "model" });
}
export function isOurs(error: unknown): boolean {
  return isKvpError(error) || isPoolFileError(error) || isWsmanError(error);
}
export { encodeRecord, realDaemonPolicy, toCimXml };
