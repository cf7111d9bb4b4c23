import { describe, expect, it } from "vitest";
import { formatList, formatRemove, formatVms } from "./print.js";

// A VM name and an item as a hostile host could answer them: bidi override, C1 CSI, ESC.
const NAME = "web\u202e10bew\u009b2J\u001b]0;x\u0007";
const vm = { id: "5C6F1A3B-0000-4000-8000-000000000001", name: NAME, enabledState: 2 };
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("human output escapes what the host sent, bidi controls included", () => {
  it("vms, list (with and without items) and write reports", () => {
    const outputs = [
      formatVms([vm]),
      formatList({ vm, items: [], notes: [] }),
      formatList({
        vm,
        items: [{ source: "guest", key: "k\u202e", value: "v\u2066\u009b" } as never],
        notes: [],
      }),
      formatRemove({ source: "host", vm, removed: ["a"], methodCalls: 1 } as never),
    ];
    for (const out of outputs) {
      expect(out).not.toMatch(UNSAFE);
      expect(out).toMatch(/\\u202e/);
    }
  });
});
