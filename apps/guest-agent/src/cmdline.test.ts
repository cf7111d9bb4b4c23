import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCmdline, parseCmdline } from "./cmdline.js";
import { decodeValue } from "./decoders.js";

/**
 * The kernel's tokenizer as a test oracle: a character-by-character model of how Linux's
 * next_arg() (lib/cmdline.c) cuts one argument out of the command line, written from its
 * documented behaviour, index by index, so the decoder's own (structured) code is checked
 * against something written differently.
 */
function kernelModel(line: string): [string, string | true][] {
  const out: [string, string | true][] = [];
  const space = (c: string | undefined) => c !== undefined && /[ \t\n\v\f\r]/.test(c);
  let rest = line;
  for (;;) {
    let at = 0;
    while (space(rest[at])) at++;
    rest = rest.slice(at);
    if (rest === "") return out;
    let quoted = false;
    let inQuote = false;
    if (rest[0] === '"') {
      rest = rest.slice(1);
      quoted = true;
      inQuote = true;
    }
    let i = 0;
    let equals = 0;
    for (; i < rest.length; i++) {
      if (space(rest[i]) && !inQuote) break;
      if (equals === 0 && rest[i] === "=") equals = i;
      if (rest[i] === '"') inQuote = !inQuote;
    }
    let token = rest.slice(0, i);
    const next = rest.slice(i + (i < rest.length ? 1 : 0));
    const lastIsQuote = i > 0 && rest[i - 1] === '"';
    if (equals === 0) {
      if (quoted && lastIsQuote) token = token.slice(0, -1);
      out.push([token, true]);
    } else {
      const name = token.slice(0, equals);
      let value = token.slice(equals + 1);
      let cut = lastIsQuote && (quoted || value.startsWith('"'));
      if (value.startsWith('"')) value = value.slice(1);
      // The closing quote is cut once, whichever rule cut it; an empty `""` value leaves nothing.
      if (cut && value.endsWith('"')) value = value.slice(0, -1);
      else if (cut && value === "") cut = false;
      out.push([name, value]);
    }
    rest = next;
  }
}

const expectedObject = (pairs: [string, string | true][]) => Object.fromEntries(new Map(pairs));

describe("parseCmdline", () => {
  it.each([
    [
      " template=domP type=consoleproxy host=192.168.10.123 port=8250 name=v-2-VM",
      { template: "domP", type: "consoleproxy", host: "192.168.10.123", port: "8250", name: "v-2-VM" },
    ],
    ["ro quiet root=/dev/sda1", { ro: true, quiet: true, root: "/dev/sda1" }],
    ['msg="hello world" x=1', { msg: "hello world", x: "1" }],
    ['"msg=hello world" x=1', { msg: "hello world", x: "1" }],
    ["a= b=", { a: "", b: "" }],
    ['a="" b', { a: "", b: true }],
    ["a=1=2", { a: "1=2" }],
    ["a=1 a=2", { a: "2" }],
    ["  \t\n ", {}],
    ["", {}],
    ['a="unterminated value', { a: "unterminated value" }],
    ['a=x"y z" b', { a: 'x"y z"', b: true }],
    ["dnssearchorder=a.example,b.example\n", { dnssearchorder: "a.example,b.example" }],
  ] as const)("%j", (line, object) => {
    expect(parseCmdline(line)).toEqual(object);
  });

  it("keeps __proto__ and constructor as plain data", () => {
    const args = parseCmdline("__proto__=x constructor=y");
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect(JSON.stringify(args)).toBe('{"__proto__":"x","constructor":"y"}');
  });

  it("cuts every argument exactly as the kernel's next_arg() does (model over a tricky alphabet)", () => {
    const line = fc
      .array(fc.constantFrom("a", "b", "=", '"', " ", "\t", "\n", "é"), { maxLength: 40 })
      .map((chars) => chars.join(""));
    fc.assert(
      fc.property(line, (text) => {
        expect(parseCmdline(text)).toEqual(expectedObject(kernelModel(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips every argument list the kernel can carry (formatCmdline, then parseCmdline)", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    // A value the kernel can carry: no `"` inside a quoted value (there is no escape).
    const value = fc.oneof(
      fc.constant<true>(true),
      fc.string({ maxLength: 20 }).filter((s) => !s.includes('"')),
      fc.stringMatching(/^[^\s"]{0,20}$/),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (pairs) => {
        const line = formatCmdline(new Map(pairs));
        expect(parseCmdline(line)).toEqual(expectedObject(pairs));
        expect(parseCmdline(` ${line}`)).toEqual(expectedObject(pairs));
      }),
      { numRuns: 1000 },
    );
  });

  it("formatCmdline quotes only values with white space, and refuses what the kernel cannot carry", () => {
    expect(
      formatCmdline(
        new Map<string, string | true>([
          ["a", "1"],
          ["ro", true],
          ["msg", "x y"],
          ["e", ""],
        ]),
      ),
    ).toBe('a=1 ro msg="x y" e=');
    expect(() => formatCmdline(new Map([["a", 'x "y"']]))).toThrow(/quote/);
    expect(() => formatCmdline(new Map([["a", '"x']]))).toThrow(/quote/);
    expect(() => formatCmdline(new Map([["a b", "1"]]))).toThrow(/name/);
    expect(() => formatCmdline(new Map([["", "1"]]))).toThrow(/name/);
  });
});

describe("the cmdline decoder", () => {
  it("decodes real-shaped CloudStack boot arguments into the same object shape as pairs", () => {
    const line =
      " template=domP type=consoleproxy host=192.168.10.123 port=8250 name=v-2-VM zone=1 pod=1 guid=Proxy.2 proxy_vm=2 disable_rp_filter=true eth2ip=192.168.10.81";
    const decoded = decodeValue("cmdline", line);
    expect(decoded).toEqual({
      decoder: "cmdline",
      ok: true,
      value: expect.objectContaining({ type: "consoleproxy", name: "v-2-VM", eth2ip: "192.168.10.81" }),
    });
  });

  it("reports a NUL (a kernel command line ends there) without quoting the value", () => {
    const decoded = decodeValue("cmdline", "vmpassword=hunter2\0rest");
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error).toMatch(/NUL/);
      expect(decoded.error).not.toContain("hunter2");
    }
  });
});
