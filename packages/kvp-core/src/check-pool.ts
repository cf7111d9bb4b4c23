import {
  HOST_MAX_KEY_UNITS,
  HOST_MAX_VALUE_UNITS,
  KEY_FIELD_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
} from "./layout.js";
import { type DecodedRecord, decodeRecord } from "./record.js";
import { type KernelUtf16Result, kernelUtf8ToUtf16 } from "./kernel-text.js";
import { findInvalidUtf8, utf16Units } from "./utf8.js";

/**
 * How much a finding matters. `error`: the pool is malformed or the host loses data;
 * `warning`: legal but surprising (duplicates, empty keys); `info`: harmless facts such as
 * the garbage the daemon leaves after a NUL.
 */
export type Severity = "error" | "warning" | "info";

/** The kinds of finding {@link checkPool} reports. */
export type DiagnosticCode =
  | "trailing-fragment"
  | "unterminated-key"
  | "unterminated-value"
  | "invalid-utf8"
  | "hidden-from-host"
  | "empty-key"
  | "duplicate-key"
  | "duplicate-key-case"
  | "host-truncated-key"
  | "host-truncated-value"
  | "garbage-after-nul";

/** One finding, located by record index and byte offset in the pool. */
export interface PoolDiagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  /** Record index, from 0 (for a trailing fragment: the index it would have had). */
  readonly index: number;
  /** Byte offset in the pool of the problem itself (a field, a byte, the fragment). */
  readonly offset: number;
  /** One line for people, without the location (printers add it). */
  readonly message: string;
  /** The record's key as decoded, when there is a record. */
  readonly key?: string;
  /** For duplicates: index of the earlier record with the same key. */
  readonly firstIndex?: number;
  /** For garbage and fragments: how many bytes; for hidden records: how many records. */
  readonly count?: number;
}

/** Result of checking a pool. */
export interface PoolReport {
  readonly records: number;
  readonly trailingBytes: number;
  readonly diagnostics: PoolDiagnostic[];
  /** Records the host would enumerate before it stops at the first invalid one. */
  readonly visibleToHost: number;
  /** Errors found, listed or not. */
  readonly errors: number;
  /** Warnings found, listed or not. */
  readonly warnings: number;
  /**
   * Findings counted but not listed, by code, once a code passed
   * {@link CheckOptions.maxDiagnosticsPerCode}; absent when every finding is listed.
   */
  readonly omitted?: Partial<Record<DiagnosticCode, number>>;
}

/** Default of {@link CheckOptions.maxDiagnosticsPerCode}: far more than a real pool needs. */
export const DEFAULT_MAX_DIAGNOSTICS_PER_CODE = 1000;

/** Options of {@link checkPool}. */
export interface CheckOptions {
  /**
   * Whether the host reads this pool through the kernel (pool 1, default true): then text
   * past the host-visible limits is reported as truncated. Pools the host writes (0, 3)
   * are only checked for format.
   */
  readonly hostReads?: boolean;
  /**
   * Most findings listed per code (default 1,000, {@link DEFAULT_MAX_DIAGNOSTICS_PER_CODE};
   * `Infinity` lists all). Past it findings are only counted, in `errors`, `warnings` and
   * `omitted`, so a hostile pool (100 MB of all-zero records is 40,960 "empty key" findings)
   * is checked in bounded memory.
   */
  readonly maxDiagnosticsPerCode?: number;
}

/**
 * Checks records incrementally, so a large pool can be read in chunks with bounded memory
 * (only keys are remembered, for duplicate detection). Feed chunks with {@link addChunk} in
 * order, then call {@link finish}.
 */
export class PoolChecker {
  private readonly diagnostics: PoolDiagnostic[] = [];
  private readonly listed = new Map<DiagnosticCode, number>();
  private readonly omitted = new Map<DiagnosticCode, number>();
  private omittedErrors = 0;
  private omittedWarnings = 0;
  private readonly maxPerCode: number;
  private readonly exactKeys = new Map<string, number>();
  private readonly foldedKeys = new Map<string, number>();
  private records = 0;
  private firstInvalid = -1;

  constructor(private readonly options: CheckOptions = {}) {
    const max = options.maxDiagnosticsPerCode ?? DEFAULT_MAX_DIAGNOSTICS_PER_CODE;
    this.maxPerCode = Number.isNaN(max) || max < 0 ? DEFAULT_MAX_DIAGNOSTICS_PER_CODE : max;
  }

  /** Checks the whole records in `bytes`, which start at record `firstIndex` of the pool. */
  addChunk(bytes: Uint8Array, firstIndex: number): void {
    const count = Math.floor(bytes.length / RECORD_BYTES);
    for (let i = 0; i < count; i++) {
      const start = i * RECORD_BYTES;
      const record = decodeRecord(bytes, start, firstIndex + i);
      this.checkRecord(record, bytes.subarray(start, start + RECORD_BYTES), (firstIndex + i) * RECORD_BYTES);
    }
    this.records = Math.max(this.records, firstIndex + count);
  }

  /**
   * Completes the report; `trailingBytes` is what follows the last whole record. Each call
   * returns a fresh report (the checker's own list is left as it was).
   */
  finish(trailingBytes: number): PoolReport {
    const diagnostics = [...this.diagnostics];
    if (trailingBytes > 0) {
      diagnostics.push({
        code: "trailing-fragment",
        severity: "warning",
        index: this.records,
        offset: this.records * RECORD_BYTES,
        count: trailingBytes,
        message: `trailing fragment of ${trailingBytes} bytes after the last whole record (ignored by the daemon, dropped at its next rewrite)`,
      });
    }
    if (this.firstInvalid >= 0 && this.firstInvalid < this.records - 1 && this.options.hostReads !== false) {
      const hidden = this.records - 1 - this.firstInvalid;
      diagnostics.push({
        code: "hidden-from-host",
        severity: "error",
        index: this.firstInvalid + 1,
        offset: (this.firstInvalid + 1) * RECORD_BYTES,
        count: hidden,
        message: `${hidden} record(s) after the invalid UTF-8 in record ${this.firstInvalid} are invisible to the host (it stops enumerating there)`,
      });
    }
    diagnostics.sort((a, b) => a.offset - b.offset || a.index - b.index);
    let errors = this.omittedErrors;
    let warnings = this.omittedWarnings;
    for (const d of diagnostics) {
      if (d.severity === "error") errors++;
      else if (d.severity === "warning") warnings++;
    }
    const visibleToHost = this.firstInvalid >= 0 ? this.firstInvalid : this.records;
    const report = { records: this.records, trailingBytes, diagnostics, visibleToHost, errors, warnings };
    return this.omitted.size === 0 ? report : { ...report, omitted: Object.fromEntries(this.omitted) };
  }

  /** Lists a finding, or only counts it once its code has {@link CheckOptions.maxDiagnosticsPerCode}. */
  private push(d: PoolDiagnostic): void {
    const listed = this.listed.get(d.code) ?? 0;
    if (listed < this.maxPerCode) {
      this.listed.set(d.code, listed + 1);
      this.diagnostics.push(d);
      return;
    }
    this.omitted.set(d.code, (this.omitted.get(d.code) ?? 0) + 1);
    if (d.severity === "error") this.omittedErrors++;
    else if (d.severity === "warning") this.omittedWarnings++;
  }

  private checkRecord(record: DecodedRecord, raw: Uint8Array, offset: number): void {
    const { index, key } = record;
    const add = (d: Omit<PoolDiagnostic, "index" | "key">) => this.push({ ...d, index, key });
    const hostReads = this.options.hostReads !== false;

    if (!record.keyTerminated) {
      add({
        code: "unterminated-key",
        severity: "error",
        offset,
        message: `key field has no NUL in its ${KEY_FIELD_BYTES} bytes (the kernel reads past it)`,
      });
    }
    if (!record.valueTerminated) {
      add({
        code: "unterminated-value",
        severity: "error",
        offset: offset + VALUE_FIELD_OFFSET,
        message: `value field has no NUL in its ${VALUE_FIELD_BYTES} bytes (the kernel reads past it)`,
      });
    }
    const keyText = raw.subarray(0, record.keyBytes);
    const valueText = raw.subarray(VALUE_FIELD_OFFSET, VALUE_FIELD_OFFSET + record.valueBytes);
    // What the kernel hands the host: it converts only up to the host limits, so it fails on
    // invalid UTF-8 only if it gets there before the cut.
    // Valid text within the limit converts whole: the kernel's conversion (and its garbage,
    // on a pool of tens of thousands of records) is needed only for the rest.
    const valueValid = record.validUtf8 || findInvalidUtf8(valueText) < 0;
    const keyView = hostView(keyText, key, record.keyValidUtf8, HOST_MAX_KEY_UNITS);
    const valueView = hostView(valueText, record.value, valueValid, HOST_MAX_VALUE_UNITS);
    if (!record.validUtf8) {
      const failing = !keyView.ok ? ("key" as const) : !valueView.ok ? ("value" as const) : undefined;
      const field = failing ?? (findInvalidUtf8(keyText) >= 0 ? "key" : "value");
      const start = field === "key" ? 0 : VALUE_FIELD_OFFSET;
      const at = offset + start + findInvalidUtf8(field === "key" ? keyText : valueText);
      const byte = `byte 0x${raw[at - offset]!.toString(16).padStart(2, "0")}`;
      if (!hostReads || failing) {
        add({
          code: "invalid-utf8",
          severity: "error",
          offset: at,
          message: `${field} is not valid UTF-8 (${byte})${hostReads ? ": the host gets an error here and stops enumerating the pool" : ""}`,
        });
        if (this.firstInvalid < 0) this.firstInvalid = index;
      } else {
        add({
          code: "invalid-utf8",
          severity: "warning",
          offset: at,
          message: `${field} is not valid UTF-8 (${byte}) past the host's cut at ${field === "key" ? HOST_MAX_KEY_UNITS : HOST_MAX_VALUE_UNITS} UTF-16 units: the host never reaches it and sees the text truncated`,
        });
      }
    }
    if (record.keyBytes === 0) {
      add({
        code: "empty-key",
        severity: "warning",
        offset,
        message:
          record.valueBytes === 0
            ? "empty key and empty value (an all-zero record is one): not a deletion, the host sees an item with an empty name"
            : "empty key: the host sees an item with an empty name",
      });
    } else if (record.keyValidUtf8) {
      const earlier = this.exactKeys.get(key);
      const folded = key.toLowerCase();
      const earlierFolded = this.foldedKeys.get(folded);
      if (earlier !== undefined) {
        add({
          code: "duplicate-key",
          severity: "warning",
          offset,
          firstIndex: earlier,
          message: `duplicate key (first at record ${earlier}): lookups see only the first, the host enumerates both`,
        });
      } else if (earlierFolded !== undefined) {
        add({
          code: "duplicate-key-case",
          severity: "warning",
          offset,
          firstIndex: earlierFolded,
          message: `key differs only in case from record ${earlierFolded}: case-insensitive readers see only one of them`,
        });
      }
      if (earlier === undefined) this.exactKeys.set(key, index);
      if (earlierFolded === undefined) this.foldedKeys.set(folded, index);
    }
    if (hostReads && keyView.ok && keyView.truncated) {
      add({
        code: "host-truncated-key",
        severity: "warning",
        offset,
        message: `key is ${utf16Units(key)} UTF-16 units: the host sees only the first ${keyView.text.length}`,
      });
    }
    if (hostReads && valueView.ok && valueView.truncated) {
      add({
        code: "host-truncated-value",
        severity: "warning",
        offset: offset + VALUE_FIELD_OFFSET,
        message: `value is ${utf16Units(record.value)} UTF-16 units: the host sees only the first ${valueView.text.length}`,
      });
    }
    const keyGarbage = garbageAfterNul(raw, 0, KEY_FIELD_BYTES, record.keyBytes);
    const valueGarbage = garbageAfterNul(raw, VALUE_FIELD_OFFSET, VALUE_FIELD_BYTES, record.valueBytes);
    if (keyGarbage + valueGarbage > 0) {
      add({
        code: "garbage-after-nul",
        severity: "info",
        offset,
        count: keyGarbage + valueGarbage,
        message: `${keyGarbage + valueGarbage} non-zero byte(s) after the NULs (key ${keyGarbage}, value ${valueGarbage}): ignored, as the daemon leaves old data there`,
      });
    }
  }
}

const FITS_WHOLE: KernelUtf16Result = { ok: true, text: "", truncated: false };

/** What the host receives of a field: {@link kernelUtf8ToUtf16}, short-cut for valid text that fits. */
function hostView(bytes: Uint8Array, text: string, valid: boolean, maxUnits: number): KernelUtf16Result {
  return valid && text.length <= maxUnits ? FITS_WHOLE : kernelUtf8ToUtf16(bytes, maxUnits);
}

/**
 * Number of non-zero bytes after a field's terminating NUL: the "dirty tail" the daemon
 * leaves when it copies only `strlen + 1` bytes into reused memory. Zero bytes are not
 * counted, since they cannot be told apart from the padding a clean writer leaves (this is
 * how the sample pools' NOTICE counts "bytes of garbage": 8 in `fedoravm`'s key, spread
 * over 496 bytes). A field with no NUL has no tail: 0.
 * @param start offset of the field in `raw`; `size` its length in bytes;
 *   `textLength` the bytes before its first NUL (as `fieldTextLength` returns).
 */
export function garbageAfterNul(raw: Uint8Array, start: number, size: number, textLength: number): number {
  let count = 0;
  const end = Math.min(start + size, raw.length);
  for (let i = start + textLength + 1; i < end; i++) {
    if (raw[i] !== 0) count++;
  }
  return count;
}

/**
 * Checks a whole pool and returns its findings (every one, up to
 * {@link CheckOptions.maxDiagnosticsPerCode} per code), each with its record index and byte offset:
 * trailing fragments, fields with no NUL, invalid UTF-8 (and the records it hides from the
 * host), empty keys, exact and case-only duplicate keys, text the host would see truncated,
 * and garbage after NULs (informational).
 */
export function checkPool(bytes: Uint8Array, options: CheckOptions = {}): PoolReport {
  const checker = new PoolChecker(options);
  checker.addChunk(bytes, 0);
  return checker.finish(bytes.length % RECORD_BYTES);
}
