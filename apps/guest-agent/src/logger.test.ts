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
