// kvp-core compiles with "types": [] so nothing of Node leaks in. The WHATWG text codecs
// are standard in every runtime we target (Node, Deno, browsers); declare just what we use.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
