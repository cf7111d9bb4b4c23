/**
 * The small WQL subset the simulator answers, parsed without regular-expression backtracking
 * on hostile input: `SELECT * FROM Class [WHERE Prop = literal [AND Prop = literal]…]`.
 * Literals are strings in double or single quotes (backslash escapes `\\`, `\"`, `\'`) or
 * decimal integers. Anything else (OR, NOT, LIKE, ASSOCIATORS OF, property lists, …) is
 * refused with a {@link SimError} `invalid-argument`, which the server turns into a
 * WS-Management fault.
 */
import { SimError } from "../errors.js";

/** Longest query accepted, characters. */
export const MAX_WQL_LENGTH = 4096;
/** Most `Prop = literal` conditions in one WHERE clause. */
export const MAX_WQL_CONDITIONS = 16;

/** One `Prop = literal` condition; `property` as written (WMI compares names ignoring case). */
export interface WqlCondition {
  readonly property: string;
  readonly value: string;
}

/** A parsed `SELECT * FROM Class WHERE …` query. */
export interface WqlQuery {
  /** The class name as written. */
  readonly className: string;
  /** Conditions joined by AND; empty without WHERE. */
  readonly conditions: readonly WqlCondition[];
}

type Token =
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "string"; readonly text: string }
  | { readonly kind: "number"; readonly text: string }
  | { readonly kind: "symbol"; readonly text: "*" | "=" };

function invalid(reason: string): SimError {
  return new SimError("invalid-argument", `invalid WQL query: ${reason}`);
}

function isWordStart(c: string): boolean {
  return (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c === "_";
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
    } else if (c === "*" || c === "=") {
      tokens.push({ kind: "symbol", text: c });
      i++;
    } else if (c === '"' || c === "'") {
      let text = "";
      let j = i + 1;
      for (;;) {
        if (j >= query.length) throw invalid(`unterminated string starting at offset ${i}`);
        const d = query[j]!;
        if (d === c) break;
        if (d === "\\") {
          const e = query[j + 1];
          if (e !== "\\" && e !== '"' && e !== "'") throw invalid(`unsupported escape at offset ${j}`);
          text += e;
          j += 2;
        } else {
          text += d;
          j++;
        }
      }
      tokens.push({ kind: "string", text });
      i = j + 1;
    } else if (isDigit(c) || (c === "-" && isDigit(query[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < query.length && isDigit(query[j]!)) j++;
      tokens.push({ kind: "number", text: query.slice(i, j) });
      i = j;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < query.length && (isWordStart(query[j]!) || isDigit(query[j]!))) j++;
      tokens.push({ kind: "word", text: query.slice(i, j) });
      i = j;
    } else {
      throw invalid(`unexpected character ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  return tokens;
}

/**
 * Parses one query of the supported subset.
 * @throws {SimError} `invalid-argument` naming what is not supported or malformed.
 */
export function parseWql(query: string): WqlQuery {
  if (typeof query !== "string") throw invalid("not a string");
  if (query.length > MAX_WQL_LENGTH) throw invalid(`longer than ${MAX_WQL_LENGTH} characters (${query.length})`);
  const tokens = tokenize(query);
  let at = 0;
  const next = (): Token | undefined => tokens[at++];
  const keyword = (word: string): void => {
    const t = next();
    if (t?.kind !== "word" || t.text.toUpperCase() !== word) {
      throw invalid(`expected ${word}${t === undefined ? " before the end" : `, found ${JSON.stringify(t.text)}`} (only SELECT * FROM Class [WHERE Prop = value [AND …]] is supported)`);
    }
  };
  keyword("SELECT");
  const star = next();
  if (star?.kind !== "symbol" || star.text !== "*") throw invalid("only SELECT * is supported");
  keyword("FROM");
  const cls = next();
  if (cls?.kind !== "word") throw invalid("expected a class name after FROM");
  const conditions: WqlCondition[] = [];
  if (at < tokens.length) {
    keyword("WHERE");
    for (;;) {
      const property = next();
      if (property?.kind !== "word") throw invalid("expected a property name in WHERE");
      const eq = next();
      if (eq?.kind !== "symbol" || eq.text !== "=") throw invalid(`expected = after ${property.text} (only = is supported)`);
      const value = next();
      if (value?.kind !== "string" && value?.kind !== "number") throw invalid(`expected a string or number after ${property.text} =`);
      conditions.push({ property: property.text, value: value.text });
      if (conditions.length > MAX_WQL_CONDITIONS) throw invalid(`more than ${MAX_WQL_CONDITIONS} conditions`);
      if (at >= tokens.length) break;
      keyword("AND");
    }
  }
  return { className: cls.text, conditions };
}
