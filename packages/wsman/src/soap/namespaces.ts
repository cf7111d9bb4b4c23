/** XML namespaces and action URIs of WS-Management as WinRM speaks it (DSP0226, MS-WSMV). */

/** SOAP 1.2 envelope. */
export const NS_SOAP = "http://www.w3.org/2003/05/soap-envelope";
/** WS-Addressing (2004/08), the version WinRM uses. */
export const NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/** WS-Enumeration (2004/09). */
export const NS_ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
/** WS-Transfer (2004/09); only its action URIs appear on the wire. */
export const NS_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
/** DMTF WS-Management 1.x. */
export const NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/** XML Schema instance (xsi:nil). */
export const NS_XSI = "http://www.w3.org/2001/XMLSchema-instance";
/** DMTF WS-CIM common types: `cim:Location` and the datetime wrappers. */
export const NS_WSCIM_COMMON = "http://schemas.dmtf.org/wbem/wscim/1/common";
/** Microsoft's WSManFault detail element. */
export const NS_WSMAN_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
/** The `xml:` prefix, bound by definition. */
export const NS_XML = "http://www.w3.org/XML/1998/namespace";
/** The `xmlns:` prefix, bound by definition. */
export const NS_XMLNS = "http://www.w3.org/2000/xmlns/";
/** Filter dialect of WQL queries in Enumerate. */
export const WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL";

/** Action URIs of the operations this package speaks. */
export const ACTIONS = Object.freeze({
  get: `${NS_TRANSFER}/Get`,
  getResponse: `${NS_TRANSFER}/GetResponse`,
  enumerate: `${NS_ENUMERATION}/Enumerate`,
  enumerateResponse: `${NS_ENUMERATION}/EnumerateResponse`,
  pull: `${NS_ENUMERATION}/Pull`,
  pullResponse: `${NS_ENUMERATION}/PullResponse`,
  release: `${NS_ENUMERATION}/Release`,
  releaseResponse: `${NS_ENUMERATION}/ReleaseResponse`,
  /** The action of a WS-Management fault. */
  fault: "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
} as const);
