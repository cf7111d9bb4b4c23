/** Counting the calls kvp-host makes to the host, for the benchmark, the tests and `--json` figures. */

/**
 * Counts calls by label: the CIM operation and what it is about (`query Msvm_ComputerSystem`,
 * `enumerate Msvm_VirtualSystemSettingData`, `get Msvm_ConcreteJob`, `invoke AddKvpItems`).
 * One count per call through the CIM client, whichever transport carries it.
 */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  /** Adds one call with `label`. */
  count(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** Calls counted so far, all labels. */
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Calls with `label`. */
  of(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  /** Every label and its count, in first-use order. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Forgets every count. */
  reset(): void {
    this.counts.clear();
  }
}
