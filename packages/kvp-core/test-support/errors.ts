import { expect } from "vitest";
import { KvpError } from "../src/errors.js";

/** Runs `fn`, expects a KvpError, and returns it so the caller can check code and message. */
export function catchKvpError(fn: () => unknown): KvpError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KvpError);
    return error as KvpError;
  }
  throw new Error("expected a KvpError, nothing was thrown");
}
