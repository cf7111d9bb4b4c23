import { describe, expect, it } from "vitest";
import { isCliError } from "./cli-error.js";
import { decodeText, parsePairArgs, parsePairs, readPairsInput } from "./read-pairs.js";

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isCliError(error, "usage")).toBe(true);
    return (error as Error).message;
  }
  throw new Error("no error thrown");
}

const utf16le = (text: string) => {
  const bytes = new Uint8Array(2 + text.length * 2);
  bytes.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) new DataView(bytes.buffer).setUint16(2 + i * 2, text.charCodeAt(i), true);
  return bytes;
};
const utf16be = (text: string) => {
  const bytes = new Uint8Array(2 + text.length * 2);
  bytes.set([0xfe, 0xff]);
  for (let i = 0; i < text.length; i++) new DataView(bytes.buffer).setUint16(2 + i * 2, text.charCodeAt(i), false);
  return bytes;
};

describe("decodeText", () => {
  it("drops a UTF-8 byte-order mark instead of making it part of the first key", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("role=web\n")]);
    expect(parsePairs(decodeText(bytes, "f"), "f")).toEqual([{ key: "role", value: "web" }]);
  });

  it("reads UTF-16 LE with a BOM, as PowerShell 5.1's Out-File writes", () => {
    expect(parsePairs(decodeText(utf16le("role=wéb\r\ntier=1\r\n"), "f"), "f")).toEqual([
      { key: "role", value: "wéb" },
      { key: "tier", value: "1" },
    ]);
  });

  it("reads UTF-16 BE with a BOM", () => {
    expect(decodeText(utf16be("a=ü"), "f")).toBe("a=ü");
  });

  it("drops a leading U+FEFF from text already decoded", () => {
    expect(decodeText("\ufeffa=1", "stdin")).toBe("a=1");
  });

  it("refuses bytes that are not UTF-8 rather than storing replacement characters", () => {
    expect(usageMessage(() => decodeText(new Uint8Array([0x61, 0x3d, 0xff]), "facts.env"))).toBe(
      "facts.env: not valid UTF-8 (save it as UTF-8, or as UTF-16 with a byte-order mark)",
    );
  });
});

describe("parsePairs", () => {
  it("reads KEY=VALUE lines: first = splits, blank and comment lines (indented too) skipped, CR dropped", () => {
    const text = "# facts\n\n  # indented comment\nurl=http://x/?a=b\r\nempty=\n\tspaced = kept as is\n";
    expect(parsePairs(text, "f")).toEqual([
      { key: "url", value: "http://x/?a=b" },
      { key: "empty", value: "" },
      { key: "\tspaced ", value: " kept as is" },
    ]);
  });

  it("names the line that is not KEY=VALUE", () => {
    expect(usageMessage(() => parsePairs("a=1\nnope\n", "facts.env"))).toBe(
      'facts.env line 2: expected KEY=VALUE, got "nope"',
    );
    expect(usageMessage(() => parsePairs("=v", "stdin"))).toMatch(/^stdin line 1: expected KEY=VALUE/);
  });

  it("reads a JSON object in order, numbers and booleans as their JSON text", () => {
    expect(parsePairs(' {"b": "x", "a": 1.5, "c": true, "__proto__": "p"}', "f")).toEqual([
      { key: "b", value: "x" },
      { key: "a", value: "1.5" },
      { key: "c", value: "true" },
      { key: "__proto__", value: "p" },
    ]);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  it.each([
    ['{"a": null}', 'f: value of "a" is null; values must be strings, numbers or booleans'],
    ['{"a": [1]}', 'f: value of "a" is an array; values must be strings, numbers or booleans'],
    ['{"a": {}}', 'f: value of "a" is an object; values must be strings, numbers or booleans'],
  ])("refuses %s", (text, message) => {
    expect(usageMessage(() => parsePairs(text, "f"))).toBe(message);
  });

  it("says when JSON is broken", () => {
    expect(usageMessage(() => parsePairs('{"a": ', "f"))).toMatch(/^f: not valid JSON \(/);
  });
});

describe("parsePairArgs", () => {
  it("splits at the first =, and refuses an argument without a key", () => {
    expect(parsePairArgs(["a=1=2", "b="])).toEqual([
      { key: "a", value: "1=2" },
      { key: "b", value: "" },
    ]);
    expect(usageMessage(() => parsePairArgs(["=x"]))).toBe('expected KEY=VALUE, got "=x"');
  });
});

describe("readPairsInput", () => {
  it("reads stdin for '-' and decodes its BOM", async () => {
    const pairs = await readPairsInput("-", { readStdin: async () => utf16le("k=v") });
    expect(pairs).toEqual([{ key: "k", value: "v" }]);
  });

  it("says which file could not be read", async () => {
    const missing = readPairsInput("/nonexistent/facts.env", { readStdin: async () => "" }, "tool set --help");
    await expect(missing).rejects.toThrow('cannot read --from-file "/nonexistent/facts.env": ENOENT');
    await expect(missing).rejects.toMatchObject({ code: "usage", hint: "tool set --help" });
  });
});
