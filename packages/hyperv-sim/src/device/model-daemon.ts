import { closeSync, constants, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  KEY_FIELD_BYTES,
  type KvpRecord,
  POOLS,
  type PoolNumber,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
  poolFileName,
} from "@hyperv-kvp/kvp-core";
import { DEFAULT_LOCK_TIMEOUT_MS, lockFile, synthesizeAutoPool } from "@hyperv-kvp/pool-file";
import type { DaemonChannel } from "./daemon-channel.js";
import { DaemonPoolMemory } from "./daemon-pool-memory.js";
import { HvStatus, KERNEL_VERSION, KvpOp, MESSAGE_BYTES, MessageLayout, decodeKvpMessage } from "./device-message.js";
import { SimError } from "../errors.js";

/** The pool the daemon synthesises instead of reading a file (KVP_POOL_AUTO). */
const AUTO_POOL = 2;

/** Options of {@link ModelDaemon.start}. */
export interface ModelDaemonOptions {
  /**
   * Directory standing in for `/var/lib/hyperv`. Default: a new temporary directory, removed
   * by {@link ModelDaemon.close}. Created (mode 0755) when missing, as the daemon does.
   */
  readonly poolDir?: string;
  /** Longest wait for a pool lock, in ms (default pool-file's `DEFAULT_LOCK_TIMEOUT_MS`). */
  readonly lockTimeoutMs?: number;
  /**
   * The ten pool-2 items, in order. Default: pool-file's `synthesizeAutoPool` for this
   * machine, with IntegrationServicesVersion = the kernel's "3.1", computed at the first
   * pool-2 ENUMERATE and kept (the daemon too resolves its host name only once).
   */
  readonly autoPool?: () => readonly KvpRecord[];
}

/**
 * A TypeScript model of hv_kvp_daemon with the same observable behaviour, for machines
 * without hyperv-daemons: the same pool files byte for byte and the same replies. Like the
 * daemon it creates the pool directory and the five pool files (0644) at start and keeps a
 * descriptor of each for locking; before every operation it re-reads the whole pool file,
 * and after every SET or DELETE it rewrites the whole file (open with truncate, write all
 * records), each under a whole-file write lock (pool-file's `lockFile`: an OFD fcntl lock,
 * which conflicts with the real daemon's classic one, plus a flock) that is dropped between
 * the read and the write, as the daemon drops it. The in-memory record array and its
 * garbage habits are {@link DaemonPoolMemory}'s.
 *
 * Not modelled: what uninitialised heap memory holds (the model writes zeros and says where,
 * see {@link unknownBytes}); the IP injection operations (answered HV_E_FAIL, as the daemon
 * answers an unknown adapter); pools past 4 (HV_E_FAIL; the daemon would index past its
 * array).
 */
export class ModelDaemon implements DaemonChannel {
  readonly kind = "model" as const;
  private readonly memories = POOLS.map(() => new DaemonPoolMemory());
  /** What the model last wrote to each pool file, with its mask of unknowable bytes. */
  private readonly written: ({ bytes: Uint8Array; unknown: Uint8Array } | undefined)[] = POOLS.map(() => undefined);
  private queue: Promise<unknown> = Promise.resolve();
  private autoItems: readonly KvpRecord[] | undefined;
  private failure: SimError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly poolDir: string,
    private readonly fds: readonly number[],
    private readonly tempRoot: string | undefined,
    private readonly lockTimeoutMs: number,
    private readonly autoPool: () => readonly KvpRecord[],
  ) {}

  /**
   * Creates the pool directory and files as the daemon does at start and reads the files in.
   * @throws the file system's error when the directory or files cannot be created.
   */
  static async start(options: ModelDaemonOptions = {}): Promise<ModelDaemon> {
    const tempRoot = options.poolDir === undefined ? await mkdtemp(join(tmpdir(), "hyperv-sim-")) : undefined;
    const poolDir = options.poolDir ?? join(tempRoot!, "pools");
    const fds: number[] = [];
    try {
      await mkdir(poolDir, { mode: 0o755 }).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== "EEXIST") throw error;
      });
      for (const pool of POOLS) {
        fds.push(openSync(join(poolDir, poolFileName(pool.number)), constants.O_RDWR | constants.O_CREAT, 0o644));
      }
      const daemon = new ModelDaemon(
        poolDir,
        fds,
        tempRoot,
        options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
        options.autoPool ?? (() => synthesizeAutoPool({ integrationServicesVersion: KERNEL_VERSION })),
      );
      // kvp_file_init reads every pool once, without taking the lock.
      for (const pool of POOLS) {
        daemon.memories[pool.number]!.load(await readFile(daemon.poolPath(pool.number)));
      }
      return daemon;
    } catch (error) {
      for (const fd of fds) closeSync(fd);
      if (tempRoot) await rm(tempRoot, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A mask over the pool file as the model last wrote it: 1 where the real daemon would have
   * written bytes of uninitialised heap memory (the model wrote 0), 0 where every byte is
   * determined. Empty when the model has not written that pool. Comparisons with the real
   * daemon should be exact wherever the mask is 0.
   */
  unknownBytes(pool: PoolNumber): Uint8Array {
    return this.written[pool]?.unknown.slice() ?? new Uint8Array(0);
  }

  request(message: Uint8Array): Promise<Uint8Array> {
    const result = this.queue.then(() => this.answer(message));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async answer(message: Uint8Array): Promise<Uint8Array> {
    if (this.closing) throw new SimError("closed", "the simulated device was closed");
    if (this.failure) throw this.failure;
    const request = decodeKvpMessage(message);
    // The daemon answers in the buffer it read the request into: every byte it does not
    // touch goes back as it came.
    const reply = message.slice();
    const status = await this.perform(request.operation, request.pool, reply);
    new DataView(reply.buffer).setUint32(MessageLayout.status, status, true);
    return reply;
  }

  /** One operation of the daemon's main loop, editing `reply` in place; returns the status. */
  private async perform(operation: number, pool: number, reply: Uint8Array): Promise<number> {
    const data = new DataView(reply.buffer);
    const isPoolOperation =
      operation === KvpOp.GET || operation === KvpOp.SET || operation === KvpOp.DELETE || operation === KvpOp.ENUMERATE;
    if (isPoolOperation && pool >= POOLS.length) return HvStatus.FAIL;
    switch (operation) {
      case KvpOp.SET: {
        const at = MessageLayout.setExchange;
        const keySize = data.getUint32(at + MessageLayout.exchangeKeySize, true);
        const valueSize = data.getUint32(at + MessageLayout.exchangeValueSize, true);
        // The daemon checks the sizes before it re-reads the file.
        if (keySize > KEY_FIELD_BYTES || valueSize > VALUE_FIELD_BYTES) return HvStatus.CONT;
        const memory = await this.reload(pool);
        memory.set(
          reply.subarray(at + MessageLayout.exchangeKey),
          keySize,
          reply.subarray(at + MessageLayout.exchangeValue),
          valueSize,
        );
        await this.persist(pool);
        return HvStatus.OK;
      }
      case KvpOp.GET: {
        const at = MessageLayout.setExchange;
        const keySize = data.getUint32(at + MessageLayout.exchangeKeySize, true);
        const valueSize = data.getUint32(at + MessageLayout.exchangeValueSize, true);
        if (keySize > KEY_FIELD_BYTES || valueSize > VALUE_FIELD_BYTES) return HvStatus.CONT;
        const memory = await this.reload(pool);
        const index = memory.find(reply.subarray(at + MessageLayout.exchangeKey), keySize);
        if (index < 0) return HvStatus.CONT;
        const value = memory.record(index).subarray(VALUE_FIELD_OFFSET, VALUE_FIELD_OFFSET + valueSize);
        reply.set(value, at + MessageLayout.exchangeValue);
        return HvStatus.OK;
      }
      case KvpOp.DELETE: {
        const keySize = data.getUint32(MessageLayout.deleteKeySize, true);
        const memory = await this.reload(pool);
        if (!memory.delete(reply.subarray(MessageLayout.deleteKey), keySize)) return HvStatus.CONT;
        await this.persist(pool);
        return HvStatus.OK;
      }
      case KvpOp.ENUMERATE: {
        const index = data.getUint32(MessageLayout.enumerateIndex, true);
        const keyAt = MessageLayout.enumerateExchange + MessageLayout.exchangeKey;
        const valueAt = MessageLayout.enumerateExchange + MessageLayout.exchangeValue;
        if (pool === AUTO_POOL) {
          const item = this.autoPoolItems()[index];
          if (!item) return HvStatus.CONT;
          strcpy(reply, keyAt, item.key);
          strcpy(reply, valueAt, item.value);
          return HvStatus.OK;
        }
        const memory = await this.reload(pool);
        if (index >= memory.count) return HvStatus.CONT;
        // Whole fields, garbage after the NUL included.
        reply.set(memory.record(index), keyAt);
        return HvStatus.OK;
      }
      case KvpOp.GET_IP_INFO:
      case KvpOp.SET_IP_INFO:
        return HvStatus.FAIL;
      default:
        // A second REGISTER1 or an unknown operation: the daemon writes the message back.
        return HvStatus.OK;
    }
  }

  /** `kvp_update_mem_state`: under the lock, read the whole file into the memory. */
  private async reload(pool: number): Promise<DaemonPoolMemory> {
    const memory = this.memories[pool]!;
    const bytes = await this.locked(pool, () => readFile(this.poolPath(pool)));
    memory.load(bytes, this.stillUnknown(pool, bytes));
    return memory;
  }

  /** `kvp_update_file`: under the lock, truncate the file and write every record. */
  private async persist(pool: number): Promise<void> {
    const memory = this.memories[pool]!;
    const bytes = memory.fileBytes();
    await this.locked(pool, () => writeFile(this.poolPath(pool), bytes));
    this.written[pool] = { bytes, unknown: memory.unknownFileBytes() };
  }

  /**
   * Bytes of a re-read file that are still the unknowable ones the model wrote: the real
   * daemon would read back its heap garbage there. Bytes someone changed since are known.
   */
  private stillUnknown(pool: number, file: Uint8Array): Uint8Array | undefined {
    const last = this.written[pool];
    if (!last) return undefined;
    const length = Math.min(file.length, last.bytes.length);
    // Usually nobody wrote in between: then the mask is the last one, found at memcmp speed.
    if (Buffer.from(file.buffer, file.byteOffset, length).equals(last.bytes.subarray(0, length))) {
      return last.unknown.slice(0, length);
    }
    const mask = new Uint8Array(length);
    for (let i = 0; i < length; i++) mask[i] = last.unknown[i]! & (file[i] === last.bytes[i] ? 1 : 0);
    return mask;
  }

  private async locked<T>(pool: number, io: () => Promise<T>): Promise<T> {
    const lock = await lockFile(this.fds[pool]!, "write", {
      timeoutMs: this.lockTimeoutMs,
      describe: this.poolPath(pool),
    }).catch((error: unknown) => {
      // The daemon would wait forever and the kernel give up after 5 s; the request times out.
      throw new SimError("timeout", `model daemon: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    });
    try {
      return await io();
    } catch (error) {
      // The daemon exits when it cannot open or write a pool; so does the model.
      this.failure = new SimError(
        "daemon-exited",
        `model daemon stopped: ${error instanceof Error ? error.message : String(error)} (hv_kvp_daemon exits here)`,
        { cause: error },
      );
      throw this.failure;
    } finally {
      lock.release();
    }
  }

  private autoPoolItems(): readonly KvpRecord[] {
    this.autoItems ??= this.autoPool();
    return this.autoItems;
  }

  private poolPath(pool: number): string {
    return join(this.poolDir, poolFileName(pool as PoolNumber));
  }

  private async shutdown(): Promise<void> {
    await this.queue;
    for (const fd of this.fds) closeSync(fd);
    if (this.tempRoot) await rm(this.tempRoot, { recursive: true, force: true });
  }
}

const encoder = new TextEncoder();

/** C `strcpy` of `text` into `bytes` at `at`: its UTF-8 and a NUL, nothing after (bounded by the message). */
function strcpy(bytes: Uint8Array, at: number, text: string): void {
  const encoded = encoder.encode(text).subarray(0, MESSAGE_BYTES - at - 1);
  bytes.set(encoded, at);
  bytes[at + encoded.length] = 0;
}
