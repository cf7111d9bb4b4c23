import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { startProgress } from "./progress.js";
import { endQuietlyOnBrokenPipe } from "./streams.js";

const streamError = (code: string) => Object.assign(new Error(code), { code });

describe("endQuietlyOnBrokenPipe", () => {
  it("ends the program when a reader closes stdout or stderr early", () => {
    const stdout = new EventEmitter();
    const stderr = new EventEmitter();
    let ended = 0;
    endQuietlyOnBrokenPipe([stdout, stderr], () => void ended++);
    stdout.emit("error", streamError("EPIPE"));
    stderr.emit("error", streamError("EPIPE"));
    expect(ended).toBe(2);
  });

  it("rethrows any other stream error", () => {
    const stdout = new EventEmitter();
    endQuietlyOnBrokenPipe([stdout], () => {
      throw new Error("must not end");
    });
    expect(() => stdout.emit("error", streamError("EIO"))).toThrow("EIO");
  });
});

describe("startProgress", () => {
  it("draws the line in place on a terminal and erases it when done", () => {
    let written = "";
    const progress = startProgress({ isTTY: true, write: (s: string) => (written += s) }, "tool: ", "waiting");
    progress.update("waiting (2)");
    progress.done();
    progress.done();
    expect(written).toBe("\r\u001b[2Ktool: waiting\r\u001b[2Ktool: waiting (2)\r\u001b[2K");
  });

  it("writes nothing when stderr is not a terminal", () => {
    let written = "";
    const progress = startProgress({ write: (s: string) => (written += s) }, "tool: ", "waiting");
    progress.update("more");
    progress.done();
    expect(written).toBe("");
  });
});
