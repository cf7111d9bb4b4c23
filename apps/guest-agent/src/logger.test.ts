import { expect, it } from "vitest";
import { createLogger, underJournald } from "./logger.js";

function capture(journald: boolean, logValues = false) {
  let out = "";
  const log = createLogger({ stream: { write: (s: string) => (out += s) }, level: "info", logValues, journald });
  return { log, out: () => out };
}

it("prefixes priorities under journald and drops debug at info", () => {
  const { log, out } = capture(true);
  log.error("e");
  log.warning("w");
  log.info("i\nj");
  log.debug("d");
  expect(out()).toBe("<3>e\n<4>w\n<6>i\\nj\n");
});

it("names the tool and level otherwise", () => {
  const { log, out } = capture(false);
  log.warning("w");
  expect(out()).toBe("kvp-agent: warning: w\n");
});

it("redacts values unless told", () => {
  expect(capture(false).log.value("secret")).toBe("<6 chars>");
  expect(capture(false, true).log.value("secret")).toBe('"secret"');
});

it("detects journald from JOURNAL_STREAM", () => {
  expect(underJournald({ JOURNAL_STREAM: "8:123" })).toBe(true);
  expect(underJournald({})).toBe(false);
});

it("escapes what could act on a terminal or split the entry: CR, ESC sequences, C1, bidi, backslashes", () => {
  for (const journald of [false, true]) {
    const { log, out } = capture(journald, true);
    log.warning(`pool 0 key a\rb\u001b[2J\u009b31m\u202eevil\\n = ${log.value("x\ny\u0007")}`);
    const body = 'pool 0 key a\\rb\\u001b[2J\\u009b31m\\u202eevil\\\\n = "x\\ny\\u0007"';
    expect(out()).toBe(journald ? `<4>${body}\n` : `kvp-agent: warning: ${body}\n`);
  }
});
