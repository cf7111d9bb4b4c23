/** Hex helpers for tests. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}
