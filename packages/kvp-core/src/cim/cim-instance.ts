/**
 * A CIM instance as WMI and Hyper-V use it (DMTF DSP0004): its class, properties of every CIM
 * type, references as instance paths, and qualifiers. Its CIM-XML form (DSP0201, DTD DSP0203)
 * is written by `toCimXml` (to-cim-xml.ts) and read by `fromCimXml` (from-cim-xml.ts).
 */
import type { CimInstancePath, CimScalarType, CimValueOf } from "./cim-types.js";

type ScalarProperty = {
  [T in CimScalarType]: { readonly type: T; readonly array?: false; readonly value: CimValueOf<T> | null };
}[CimScalarType];
type ArrayProperty = {
  [T in CimScalarType]: {
    readonly type: T;
    readonly array: true;
    readonly value: readonly (CimValueOf<T> | null)[] | null;
    /** ARRAYSIZE: the declared size of a fixed-size array. */
    readonly arraySize?: number;
  };
}[CimScalarType];

/** What every property can carry besides its value. */
export interface CimPropertyBase {
  /** Property name (a DSP0004 identifier; compared case-insensitively). */
  readonly name: string;
  /** PROPAGATED: true when the value comes from the class, as WMI marks inherited defaults. */
  readonly propagated?: boolean;
  /** CLASSORIGIN: the class that declares the property. */
  readonly classOrigin?: string;
  /** Qualifiers on the property, when kept. */
  readonly qualifiers?: readonly CimQualifier[];
}

/** Extras of string-typed (and other non-reference) properties. */
export interface CimValuePropertyExtras {
  /**
   * EmbeddedObject: the string value is itself CIM-XML (`instance`: an INSTANCE; `object`:
   * an INSTANCE or CLASS); read it with `fromCimXml`.
   */
  readonly embeddedObject?: "object" | "instance";
  /** xml:lang of the value. */
  readonly lang?: string;
}

/**
 * One property of an instance. `type` and `array` decide the JS type of `value`: see
 * {@link CimValueOf}; `null` is CIM's NULL (a PROPERTY without VALUE). A reference holds a
 * {@link CimInstancePath}; CIM-XML has no reference arrays in instances.
 */
export type CimProperty =
  | (CimPropertyBase & CimValuePropertyExtras & ScalarProperty)
  | (CimPropertyBase & CimValuePropertyExtras & ArrayProperty)
  | (CimPropertyBase & {
      readonly type: "reference";
      readonly array?: false;
      /** REFERENCECLASS: the class the reference must point to. */
      readonly referenceClass?: string;
      readonly value: CimInstancePath | null;
    });

/**
 * A qualifier, kept as written when it can be read, dropped when it cannot (never fatal).
 * CIM-XML's QUALIFIER has no ISARRAY, so a NULL qualifier always reads back as a scalar.
 */
export type CimQualifier = {
  readonly name: string;
  readonly propagated?: boolean;
  readonly overridable?: boolean;
  readonly toSubclass?: boolean;
  readonly toInstance?: boolean;
  readonly translatable?: boolean;
  readonly lang?: string;
} & (ScalarProperty | Omit<ArrayProperty, "arraySize">);

/** One CIM instance: its class, properties in document order and optional qualifiers. */
export interface CimInstance {
  /** CLASSNAME, e.g. `Msvm_KvpExchangeDataItem`. */
  readonly className: string;
  /** Properties in the order written; names are unique ignoring case. */
  readonly properties: readonly CimProperty[];
  /** Qualifiers on the instance, when kept. */
  readonly qualifiers?: readonly CimQualifier[];
  /** xml:lang of the instance. */
  readonly lang?: string;
}

/** The property named `name`, compared case-insensitively as CIM names are, or undefined. */
export function getProperty(instance: CimInstance, name: string): CimProperty | undefined {
  const upper = name.toUpperCase();
  return instance.properties.find((p) => p.name === name || p.name.toUpperCase() === upper);
}
