import { describe, expect, it } from "vitest";
import { MAX_CHUNK_PARTS, splitValue } from "./chunking.js";
import { CLOUD_INIT_KEYS, MAX_CLOUD_INIT_DOCUMENT_BYTES, cloudInitDocumentProblem } from "./cloud-init.js";

describe("cloud-init documents", () => {
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
