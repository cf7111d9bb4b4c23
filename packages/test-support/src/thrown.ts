// The one way tests catch a throw: the error comes back as a value to check (its code, its
// message), and a call that does not throw fails the test instead of passing by accident.

/** A class of errors, for the typed variants: `thrown(fn, KvpError)` returns a `KvpError`. */
export type ErrorClass<E> = abstract new (...args: never[]) => E;

/**
 * What `fn` throws.
 * @throws Error (failing the test) when `fn` returns, when it returns a promise (use
 * {@link thrownAsync}), or, given `type`, when what it throws is not a `type`.
 */
export function thrown(fn: () => unknown): unknown;
export function thrown<E>(fn: () => unknown, type: ErrorClass<E>): E;
export function thrown<E>(fn: () => unknown, type?: ErrorClass<E>): unknown {
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    return checked(error, type);
  }
  if (returned instanceof Promise) {
    // A rejection here would go unnoticed (and unhandled): the caller meant thrownAsync.
    returned.catch(() => undefined);
    throw new Error("expected a throw, got a promise: use thrownAsync");
  }
  throw new Error(`expected a throw${type ? ` of ${type.name}` : ""}, nothing was thrown`);
}

/**
 * What `work` (a promise, or a function returning one) rejects with; a function that throws
 * before returning its promise counts as rejecting.
 * @throws Error (failing the test) when it resolves or, given `type`, when the rejection is
 * not a `type`.
 */
export async function thrownAsync(work: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown>;
export async function thrownAsync<E>(
  work: Promise<unknown> | (() => Promise<unknown>),
  type: ErrorClass<E>,
): Promise<E>;
export async function thrownAsync<E>(
  work: Promise<unknown> | (() => Promise<unknown>),
  type?: ErrorClass<E>,
): Promise<unknown> {
  try {
    await (typeof work === "function" ? work() : work);
  } catch (error) {
    return checked(error, type);
  }
  throw new Error(`expected a rejection${type ? ` with ${type.name}` : ""}, it resolved`);
}

function checked<E>(error: unknown, type: ErrorClass<E> | undefined): unknown {
  if (type === undefined || error instanceof type) return error;
  // The original stays the cause: its stack says where the unexpected error came from.
  throw new Error(`expected a ${type.name}, got ${describeValue(error)}`, { cause: error });
}

function describeValue(value: unknown): string {
  if (value instanceof Error) return `${value.constructor.name}: ${value.message}`;
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
