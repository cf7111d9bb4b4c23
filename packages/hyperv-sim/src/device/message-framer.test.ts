import { describe, expect, it } from "vitest";
import { MESSAGE_BYTES } from "./device-message.js";
import { MessageFramer } from "./message-framer.js";

function message(fill: number): Uint8Array {
  return new Uint8Array(MESSAGE_BYTES).fill(fill);
}

describe("MessageFramer", () => {
  it("passes a whole message through", () => {
    expect(new MessageFramer().push(message(1))).toEqual([message(1)]);
  });

  it("reassembles a message from small chunks", () => {
    const framer = new MessageFramer();
    const whole = message(7);
    whole[0] = 1;
    whole[MESSAGE_BYTES - 1] = 9;
    const out: Uint8Array[] = [];
    for (let at = 0; at < MESSAGE_BYTES; at += 1000) out.push(...framer.push(whole.subarray(at, at + 1000)));
    expect(out).toEqual([whole]);
    expect(framer.buffered).toBe(0);
  });

  it("splits a chunk holding a message and a half, and keeps the half", () => {
    const framer = new MessageFramer();
    const chunk = new Uint8Array(MESSAGE_BYTES + MESSAGE_BYTES / 2);
    chunk.fill(2, 0, MESSAGE_BYTES);
    chunk.fill(3, MESSAGE_BYTES);
    expect(framer.push(chunk)).toEqual([message(2)]);
    expect(framer.buffered).toBe(MESSAGE_BYTES / 2);
    expect(framer.push(new Uint8Array(MESSAGE_BYTES / 2).fill(3))).toEqual([message(3)]);
  });

  it("returns several messages from one chunk, in order", () => {
    const framer = new MessageFramer();
    const chunk = new Uint8Array(3 * MESSAGE_BYTES);
    for (let i = 0; i < 3; i++) chunk.fill(i + 1, i * MESSAGE_BYTES, (i + 1) * MESSAGE_BYTES);
    expect(framer.push(chunk)).toEqual([message(1), message(2), message(3)]);
  });

  it("does not hand out a buffer it will overwrite", () => {
    const framer = new MessageFramer();
    const [first] = framer.push(message(4));
    framer.push(message(5));
    expect(first).toEqual(message(4));
  });
});
