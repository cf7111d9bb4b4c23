import { expect, it } from "vitest";
import { CoalescingWriter } from "./state-writer.js";

/** A writer on a hand-driven clock and timer: `advance(ms)` moves time and fires a due timer. */
function setup(intervalMs = 1000) {
  let t = 0;
  let timer: { at: number; fn: () => void } | undefined;
  const writes: number[] = [];
  const writer = new CoalescingWriter({
    write: () => writes.push(t),
    intervalMs,
    now: () => t,
    setTimer: (fn, ms) => {
      timer = { at: t + ms, fn };
      return timer;
    },
    clearTimer: (handle) => {
      if (timer === handle) timer = undefined;
    },
  });
  const advance = (ms: number) => {
    t += ms;
    if (timer !== undefined && timer.at <= t) {
      const { fn } = timer;
      timer = undefined;
      fn();
    }
  };
  return { writer, writes, advance, pending: () => timer !== undefined };
}

it("writes at once after a quiet interval, then at most once per interval with the latest state", () => {
  const { writer, writes, advance } = setup();
  writer.request();
  expect(writes).toEqual([0]);
  // 10,000 hook results within the next interval: one more write, at its end.
  for (let i = 0; i < 10_000; i++) {
    if (i % 20 === 0) advance(1);
    writer.request();
  }
  expect(writes).toEqual([0]);
  advance(500);
  expect(writes).toEqual([0, 1000]);
  // Quiet again: the next request writes at once.
  advance(5000);
  writer.request();
  expect(writes).toEqual([0, 1000, 6000]);
});

it("flush writes a requested write now, and nothing when none is due", () => {
  const { writer, writes, advance, pending } = setup();
  writer.request();
  advance(10);
  writer.request();
  expect(pending()).toBe(true);
  writer.flush();
  expect(writes).toEqual([0, 10]);
  expect(pending()).toBe(false);
  writer.flush();
  expect(writes).toEqual([0, 10]);
});

it("close flushes and writes nothing afterwards", () => {
  const { writer, writes, advance } = setup();
  writer.request();
  advance(10);
  writer.request();
  writer.close();
  expect(writes).toEqual([0, 10]);
  writer.request();
  advance(5000);
  expect(writes).toEqual([0, 10]);
});
