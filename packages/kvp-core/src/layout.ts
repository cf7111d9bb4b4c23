/**
 * The pool-file record layout, as `hv_kvp_daemon` and the kernel's `hv_kvp.c` define it.
 * Every other module derives sizes and offsets from these names; no bare 512 or 2048
 * appears anywhere else.
 */

/** Bytes of the key field of one record (`HV_KVP_EXCHANGE_MAX_KEY_SIZE`), NUL included. */
export const KEY_FIELD_BYTES = 512;

/** Bytes of the value field of one record (`HV_KVP_EXCHANGE_MAX_VALUE_SIZE`), NUL included. */
export const VALUE_FIELD_BYTES = 2048;

/** Bytes of one record: a key field followed directly by a value field, no header. */
export const RECORD_BYTES = KEY_FIELD_BYTES + VALUE_FIELD_BYTES;

/** Offset of the value field inside a record, in bytes. */
export const VALUE_FIELD_OFFSET = KEY_FIELD_BYTES;

/**
 * Longest key a writer may store, in UTF-8 bytes: the field must keep at least one NUL,
 * because a field's text ends at its first NUL and the kernel runs `strlen` over it.
 */
export const MAX_KEY_BYTES = KEY_FIELD_BYTES - 1;

/** Longest value a writer may store, in UTF-8 bytes (one byte of the field stays NUL). */
export const MAX_VALUE_BYTES = VALUE_FIELD_BYTES - 1;

/**
 * Longest key the host receives whole, in UTF-16 code units: the kernel converts pool-1
 * keys to UTF-16 and silently truncates anything longer.
 */
export const HOST_MAX_KEY_UNITS = 254;

/** Longest value the host receives whole, in UTF-16 code units (silently truncated past it). */
export const HOST_MAX_VALUE_UNITS = 1022;
