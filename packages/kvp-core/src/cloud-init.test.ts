import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { MAX_CHUNK_PARTS, splitValue } from "./chunking.js";
import {
  CLOUD_INIT_KEYS,
  MAX_CLOUD_INIT_DOCUMENT_BYTES,
  MAX_CLOUD_INIT_DOCUMENT_PARTS,
  checkCloudInitDocument,
  cloudInitDocumentProblem,
  decodeCloudInitDocument,
  hasInstanceId,
} from "./cloud-init.js";
import { KvpError } from "./errors.js";
import { encodeUtf8 } from "./utf8.js";

const META = "instance-id: web01-0001\nlocal-hostname: web01\n";

describe("cloud-init documents", () => {
  it("names the keys the guest agent reads", () => {
    expect(CLOUD_INIT_KEYS).toEqual({
      "meta-data": "cloud-init/meta-data",
      "user-data": "cloud-init/user-data",
      "network-config": "cloud-init/network-config",
    });
  });

  it("a document at the limit needs at most MAX_CLOUD_INIT_DOCUMENT_PARTS parts, ASCII or not", () => {
    const ascii = "a".repeat(MAX_CLOUD_INIT_DOCUMENT_BYTES);
    const threeByte = "€".repeat(Math.floor(MAX_CLOUD_INIT_DOCUMENT_BYTES / 3));
    expect(splitValue(CLOUD_INIT_KEYS["user-data"], ascii)).toHaveLength(MAX_CLOUD_INIT_DOCUMENT_PARTS);
    expect(splitValue(CLOUD_INIT_KEYS["user-data"], threeByte).length).toBeLessThan(MAX_CLOUD_INIT_DOCUMENT_PARTS);
    expect(MAX_CLOUD_INIT_DOCUMENT_PARTS).toBe(65);
  });

  it("decodes UTF-8, dropping a byte-order mark", () => {
    const bytes = encodeUtf8("#cloud-config\nhostname: é\n");
    expect(decodeCloudInitDocument("user-data", bytes)).toBe("#cloud-config\nhostname: é\n");
    expect(decodeCloudInitDocument("user-data", new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]))).toBe(
      "#cloud-config\nhostname: é\n",
    );
  });

  it("refuses bytes that are not UTF-8, naming UTF-16", () => {
    const invalid = thrown(() => decodeCloudInitDocument("user-data", new Uint8Array([0x23, 0xc3, 0x28])), KvpError);
    expect(invalid.code).toBe("invalid-value");
    expect(invalid.message).toBe("invalid user-data: not UTF-8 (invalid byte at offset 1)");
    const utf16 = thrown(() => decodeCloudInitDocument("user-data", new Uint8Array([0xff, 0xfe, 0x23, 0])), KvpError);
    expect(utf16.message).toBe("invalid user-data: UTF-16 (byte-order mark); save it as UTF-8");
  });

  it("refuses a document one byte over the limit, and takes one at it", () => {
    const at = new Uint8Array(MAX_CLOUD_INIT_DOCUMENT_BYTES).fill(0x61);
    expect(decodeCloudInitDocument("user-data", at)).toHaveLength(MAX_CLOUD_INIT_DOCUMENT_BYTES);
    const over = thrown(
      () => decodeCloudInitDocument("user-data", new Uint8Array(MAX_CLOUD_INIT_DOCUMENT_BYTES + 1).fill(0x61)),
      KvpError,
    );
    expect(over.code).toBe("limit-exceeded");
    expect(over.message).toMatch(/^user-data too large: 65537 bytes \(at most 65536\)/);
    // Counted in UTF-8 bytes, not characters.
    expect(thrown(() => checkCloudInitDocument("network-config", "é".repeat(32_769)), KvpError).code).toBe(
      "limit-exceeded",
    );
  });

  it("refuses NUL and lone surrogates", () => {
    expect(thrown(() => checkCloudInitDocument("user-data", "a\0b"), KvpError).message).toBe(
      "invalid user-data: holds a NUL character",
    );
    expect(thrown(() => checkCloudInitDocument("user-data", "a\ud800"), KvpError).message).toBe(
      "invalid user-data: not valid Unicode (a lone surrogate at 1)",
    );
  });

  it("meta-data without an instance-id is refused; other documents need none", () => {
    const error = thrown(() => checkCloudInitDocument("meta-data", "local-hostname: web01\n"), KvpError);
    expect(error.code).toBe("invalid-value");
    expect(error.message).toContain("no instance-id");
    expect(() => checkCloudInitDocument("meta-data", META)).not.toThrow();
    expect(() => checkCloudInitDocument("user-data", "#cloud-config\n")).not.toThrow();
  });

  it.each([
    [META, true],
    ['{"instance-id": "i-1", "local-hostname": "web01"}', true],
    ["local-hostname: web01\n'instance-id': i-2\n", true],
    ["# instance-id: commented\nlocal-hostname: x\n", false],
    ["network:\n  instance-id: nested\n", false],
    ["instance-id:\n", false],
    ["instance-id: # no value\n", false],
    ["instance-ids: x\n", false],
  ])("hasInstanceId(%j) is %s", (text, expected) => {
    expect(hasInstanceId(text)).toBe(expected);
  });
});
describe("cloud-init documents as the guest agent checks them", () => {
  it("names one pool-0 key per NoCloud file", () => {
    expect(CLOUD_INIT_KEYS).toEqual({
      "meta-data": "cloud-init/meta-data",
      "user-data": "cloud-init/user-data",
      "network-config": "cloud-init/network-config",
    });
  });

  it("a document of the largest size fits one 128-item batch of parts, whatever its characters", () => {
    for (const ch of ["a", "é", "€", "😀"]) {
      const text = ch.repeat(Math.floor(MAX_CLOUD_INIT_DOCUMENT_BYTES / new TextEncoder().encode(ch).length));
      expect(cloudInitDocumentProblem("user-data", text)).toBeUndefined();
      const parts = splitValue(CLOUD_INIT_KEYS["user-data"], text);
      expect(parts.length).toBeLessThanOrEqual(128);
      expect(parts.length).toBeLessThan(MAX_CHUNK_PARTS);
    }
  });

  it.each([
    ["instance-id: i-1\n", undefined],
    ["local-hostname: h\ninstance-id: 'vm 1'\n", undefined],
    ['{"instance-id": "iid-1", "local-hostname": "h"}', undefined],
    ["{instance-id: x}", undefined],
    ["local-hostname: h\n", "has no instance-id"],
    ["instance-id:\n", "has no instance-id"],
    ["# instance-id: commented\nlocal-hostname: h\n", "has no instance-id"],
    ["my-instance-id: x\n", "has no instance-id"],
    ["", "has no instance-id"],
  ])("meta-data %j: %s", (text, problem) => {
    expect(cloudInitDocumentProblem("meta-data", text)).toBe(problem);
  });

  it("refuses what cannot be a seed file", () => {
    expect(cloudInitDocumentProblem("user-data", "x".repeat(MAX_CLOUD_INIT_DOCUMENT_BYTES))).toBeUndefined();
    expect(cloudInitDocumentProblem("user-data", "x".repeat(MAX_CLOUD_INIT_DOCUMENT_BYTES + 1))).toBe(
      `larger than ${MAX_CLOUD_INIT_DOCUMENT_BYTES} bytes (${MAX_CLOUD_INIT_DOCUMENT_BYTES + 1})`,
    );
    expect(cloudInitDocumentProblem("user-data", "€".repeat(21_846))).toBe(
      `larger than ${MAX_CLOUD_INIT_DOCUMENT_BYTES} bytes (65538)`,
    );
    expect(cloudInitDocumentProblem("user-data", "#cloud-config\0")).toBe("holds a NUL character");
    expect(cloudInitDocumentProblem("network-config", "a\ud800b")).toBe("not valid Unicode (a lone surrogate at 1)");
    // Only meta-data must name an instance.
    expect(cloudInitDocumentProblem("user-data", "")).toBeUndefined();
  });
});
