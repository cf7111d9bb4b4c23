import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEY_FIELD_BYTES, POOLS, VALUE_FIELD_BYTES, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DaemonChannel } from "./daemon-channel.js";
import { KvpOp, MESSAGE_BYTES, MessageLayout, REG_SZ, encodeField, encodeKvpMessage } from "./device-message.js";
import { ModelDaemon } from "./model-daemon.js";
import { RealDaemon } from "./real-daemon.js";
import { SimulatedHost } from "./simulated-host.js";
import { concatBytes, knownMismatches, rawRecord } from "@hyperv-kvp/test-support";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";

// The model's promise is "same observable behaviour": the same sequence against both must
// leave the five pool files identical byte for byte, and every reply identical too, except
// the bytes the real daemon took from uninitialised heap memory, which the model marks
// (ModelDaemon.unknownBytes) instead of guessing.

const policy = realDaemonPolicy();
const encoder = new TextEncoder();

describe("ModelDaemon against the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let real: RealDaemon;
  let model: ModelDaemon;
  beforeEach(async () => {
    [real, model] = await Promise.all([RealDaemon.start(), ModelDaemon.start()]);
  });
  afterEach(async () => {
    await Promise.all([real.close(), model.close()]);
  });

  const poolBytes = (channel: DaemonChannel, pool: number) =>
    new Uint8Array(readFileSync(join(channel.poolDir, poolFileName(pool as 0))));
  const expectSameFiles = () => {
    for (const { number: pool } of POOLS) {
      const bytes = poolBytes(model, pool);
      const unknown = new Uint8Array(bytes.length);
      unknown.set(model.unknownBytes(pool));
      expect(knownMismatches(poolBytes(real, pool), { bytes, unknown }), `pool ${pool}`).toEqual([]);
    }
  };

  it("leaves the same pool files and gives the host the same answers after the same operations", async () => {
    const transcripts = [];
    for (const channel of [real, model]) transcripts.push(await hostScenario(channel));
    expect(transcripts[1]).toEqual(transcripts[0]);
    expectSameFiles();
  });

  it("answers raw device messages byte for byte the same", async () => {
    const replies: Uint8Array[][] = [[], []];
    for (const [i, channel] of [real, model].entries()) {
      // Records read from files are fully determined; replies below only ever carry those.
      const file = (pool: number) => join(channel.poolDir, poolFileName(pool as 0));
      writeFileSync(file(0), concatBytes(rawRecord("p0", "zero\0old"), rawRecord("p1", "one"), rawRecord("p2", "two")));
      writeFileSync(file(4), rawRecord("p4", "four"));
      for (const message of rawMessages()) replies[i]!.push(await channel.request(message));
    }
    expect(replies[1]!.length).toBe(replies[0]!.length);
    for (const [n, reply] of replies[0]!.entries()) {
      expect(replies[1]![n], `reply ${n}`).toEqual(reply);
    }
    expectSameFiles();
  });
});

/** Host-level operations covering modify, delete, append into stale slots, fragments, pools 1–3. */
async function hostScenario(channel: DaemonChannel): Promise<unknown[]> {
  const host = new SimulatedHost(channel);
  const file = (pool: number) => join(channel.poolDir, poolFileName(pool as 0));
  const out: unknown[] = [];
  out.push(await host.sendHostFacts());
  for (const [key, value] of [
    ["alpha", "a fairly long first value"],
    ["beta", "b"],
    ["gamma", "a value longer than the one it will replace"],
    ["delta", "δέλτα ✓"],
  ] as const) {
    out.push(await host.set(0, key, value));
  }
  out.push(await host.set(0, "gamma", "short"));
  out.push(await host.delete(0, "beta"));
  out.push(await host.set(0, "epsilon", "e"));
  out.push(await host.delete(0, "alpha"));
  out.push(await host.delete(0, "epsilon"));
  out.push(await host.set(0, "zeta", "z"));
  out.push(await host.set(0, "Gamma", "case differs"));
  out.push(await host.delete(0, "missing"));
  out.push(await host.enumerate(0));
  out.push(await host.get(0, "gamma"));
  out.push(await host.enumerate(3));

  // Written behind the daemon's back, as guest tools do.
  writeFileSync(
    file(1),
    concatBytes(
      encodePool([
        { key: "Role", value: "web" },
        { key: "Grüße", value: "日本語 🚀" },
      ]),
      rawRecord("bad", new Uint8Array([0xc3, 0x28])),
      rawRecord("hidden", "1"),
      new Uint8Array(77).fill(0x5a),
    ),
  );
  out.push(await host.enumerate(1));
  writeFileSync(file(4), concatBytes(rawRecord("x", "y"), new Uint8Array(1000).fill(0x33)));
  out.push(await host.enumerate(4));
  out.push(await host.enumerate(2));
  return out;
}

/** Device messages a real kernel would not send, to pin down the daemon's edges. */
function rawMessages(): Uint8Array[] {
  const exchange = (
    operation: number,
    pool: number,
    key: Uint8Array,
    keySize: number,
    value: Uint8Array,
    valueSize: number,
  ) =>
    encodeKvpMessage({
      operation,
      pool,
      body: {
        kind: "exchange",
        data: {
          valueType: REG_SZ,
          keySize,
          valueSize,
          key: padded(key, KEY_FIELD_BYTES),
          value: padded(value, VALUE_FIELD_BYTES),
        },
      },
    });
  const enumerate = (pool: number, index: number, key = new Uint8Array(0)) =>
    encodeKvpMessage({
      operation: KvpOp.ENUMERATE,
      pool,
      body: {
        kind: "enumerate",
        index,
        data: {
          valueType: 0,
          keySize: 0,
          valueSize: 0,
          key: padded(key, KEY_FIELD_BYTES),
          value: new Uint8Array(VALUE_FIELD_BYTES),
        },
      },
    });
  const del = (pool: number, key: Uint8Array, keySize: number) =>
    encodeKvpMessage({
      operation: KvpOp.DELETE,
      pool,
      body: { kind: "delete", keySize, key: padded(key, KEY_FIELD_BYTES) },
    });
  const text = (s: string) => encoder.encode(s);
  const odd = new Uint8Array(MESSAGE_BYTES);
  odd[MessageLayout.operation] = 42;
  odd.fill(0x11, 100, 200);
  return [
    exchange(KvpOp.SET, 0, text("a"), 2, text("first value"), 12),
    // value_size 0: a new record gets no value bytes at all.
    exchange(KvpOp.SET, 0, text("b"), 2, text("ignored"), 0),
    // Garbage after the key's NUL in the message is copied only as far as key_size says.
    exchange(KvpOp.SET, 0, text("c\0garbage"), 2, text("v\0tail-in-message"), 17),
    // Sizes past the fields are refused before anything is read.
    exchange(KvpOp.SET, 0, text("d"), KEY_FIELD_BYTES + 1, text("v"), 2),
    exchange(KvpOp.SET, 0, text("d"), 2, text("v"), VALUE_FIELD_BYTES + 1),
    exchange(KvpOp.SET, 4, text("four"), 5, text("in pool 4"), 10),
    // The daemon will even store into pool 2's file.
    exchange(KvpOp.SET, 2, text("two"), 4, text("stored"), 7),
    // Modify with a shorter value, then read the whole field back.
    exchange(KvpOp.SET, 0, text("p1"), 3, text("1"), 2),
    exchange(KvpOp.GET, 0, text("p1"), 3, new Uint8Array(0), VALUE_FIELD_BYTES),
    exchange(KvpOp.GET, 0, text("p0"), 3, new Uint8Array(0), 0),
    exchange(KvpOp.GET, 0, text("nope"), 5, new Uint8Array(0), 10),
    enumerate(0, 0),
    enumerate(0, 2),
    enumerate(0, 99),
    enumerate(4, 0),
    // strcpy into a key field that already holds bytes leaves them after the NUL.
    enumerate(2, 1, text("Z".repeat(100))),
    enumerate(2, 10),
    // key_size 0 compares nothing: the first record matches.
    del(0, text("whatever"), 0),
    del(0, text("c"), 2),
    del(0, text("nope"), 5),
    enumerate(0, 0),
    odd,
    encodeKvpMessage({
      operation: KvpOp.REGISTER1,
      pool: 0,
      body: { kind: "register", version: padded(text("9.9"), 512) },
    }),
    encodeKvpMessage({
      operation: KvpOp.GET_IP_INFO,
      pool: 0,
      body: { kind: "raw", bytes: new Uint8Array(MESSAGE_BYTES - 4) },
    }),
  ];
}

function padded(bytes: Uint8Array, size: number): Uint8Array {
  return bytes.length < size ? encodeField(bytes, size) : bytes.slice(0, size);
}
