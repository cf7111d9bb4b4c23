/**
 * The small WQL subset the simulator answers, parsed without regular-expression backtracking
 * on hostile input: `SELECT * FROM Class [WHERE Prop = literal [AND Prop = literal]…]`, and
 * (with {@link parseWqlStatement} only) `ASSOCIATORS OF {Class.Key=literal[,Key=literal]…}
 * WHERE AssocClass=Name ResultClass=Name` — both clauses required, nothing else in WHERE.
 * Literals are strings in double or single quotes (backslash escapes `\\`, `\"`, `\'`) or
 * decimal integers. Anything else (OR, NOT, LIKE, Role, ClassDefsOnly, property lists, …) is
 * refused with a {@link SimError} `invalid-argument`, which the server turns into a
 * WS-Management fault. Which associations are answered is associators.ts's business;
 * {@link matchesConditions} evaluates a WHERE clause against an instance.
 */
import { equalsIgnoreCase } from "@hyperv-kvp/kvp-core/cim";
import type { WsmanInstance } from "@hyperv-kvp/wsman";
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

/** A parsed `ASSOCIATORS OF {Class.Key=literal,…} WHERE AssocClass=A ResultClass=R` query. */
export interface WqlAssociatorsQuery {
  /** The source object's class, as written. */
  readonly sourceClass: string;
  /** The source object's key bindings, as written (at least one). */
  readonly sourceKeys: readonly WqlCondition[];
  /** AssocClass, as written. */
  readonly assocClass: string;
  /** ResultClass, as written. */
  readonly resultClass: string;
}

/** Either statement the simulator answers. */
export type WqlStatement =
  | ({ readonly kind: "select" } & WqlQuery)
  | ({ readonly kind: "associators" } & WqlAssociatorsQuery);

type WqlSymbol = "*" | "=" | "{" | "}" | "." | ",";
const SYMBOLS: readonly string[] = ["*", "=", "{", "}", ".", ","];

type Token =
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "string"; readonly text: string }
  | { readonly kind: "number"; readonly text: string }
  | { readonly kind: "symbol"; readonly text: WqlSymbol };

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
    } else if (SYMBOLS.includes(c)) {
      tokens.push({ kind: "symbol", text: c as WqlSymbol });
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
  return parseSelect(tokenizeQuery(query));
}

/**
 * Parses a SELECT (as {@link parseWql}) or an ASSOCIATORS OF query of the supported forms.
 * @throws {SimError} `invalid-argument` naming what is not supported or malformed.
 */
export function parseWqlStatement(query: string): WqlStatement {
  const tokens = tokenizeQuery(query);
  const first = tokens[0];
  if (first?.kind === "word" && first.text.toUpperCase() === "ASSOCIATORS")
    return { kind: "associators", ...parseAssociators(tokens) };
  return { kind: "select", ...parseSelect(tokens) };
}

function tokenizeQuery(query: string): Token[] {
  if (typeof query !== "string") throw invalid("not a string");
  if (query.length > MAX_WQL_LENGTH) throw invalid(`longer than ${MAX_WQL_LENGTH} characters (${query.length})`);
  return tokenize(query);
}

const ASSOCIATORS_FORM =
  "only ASSOCIATORS OF {Class.Key=value[,Key=value]} WHERE AssocClass=Name ResultClass=Name is supported";

function parseAssociators(tokens: readonly Token[]): WqlAssociatorsQuery {
  let at = 0;
  const next = (): Token | undefined => tokens[at++];
  const found = (t: Token | undefined) => (t === undefined ? "the end" : JSON.stringify(t.text));
  const expectWord = (word?: string): string => {
    const t = next();
    if (t?.kind !== "word" || (word !== undefined && t.text.toUpperCase() !== word))
      throw invalid(`expected ${word ?? "a name"}, found ${found(t)} (${ASSOCIATORS_FORM})`);
    return t.text;
  };
  const expectSymbol = (symbol: WqlSymbol): void => {
    const t = next();
    if (t?.kind !== "symbol" || t.text !== symbol)
      throw invalid(`expected ${symbol}, found ${found(t)} (${ASSOCIATORS_FORM})`);
  };
  expectWord("ASSOCIATORS");
  expectWord("OF");
  expectSymbol("{");
  const sourceClass = expectWord();
  expectSymbol(".");
  const sourceKeys: WqlCondition[] = [];
  for (;;) {
    const property = expectWord();
    expectSymbol("=");
    const value = next();
    if (value?.kind !== "string" && value?.kind !== "number")
      throw invalid(`expected a string or number after ${property} = (${ASSOCIATORS_FORM})`);
    sourceKeys.push({ property, value: value.text });
    if (sourceKeys.length > MAX_WQL_CONDITIONS)
      throw invalid(`more than ${MAX_WQL_CONDITIONS} keys in the object path`);
    const t = next();
    if (t?.kind === "symbol" && t.text === "}") break;
    if (t?.kind !== "symbol" || t.text !== ",")
      throw invalid(`expected , or }, found ${found(t)} (${ASSOCIATORS_FORM})`);
  }
  expectWord("WHERE");
  const clauses = new Map<string, string>();
  while (at < tokens.length) {
    const clause = expectWord().toUpperCase();
    if (clause !== "ASSOCCLASS" && clause !== "RESULTCLASS")
      throw invalid(`unsupported clause ${clause} (${ASSOCIATORS_FORM})`);
    if (clauses.has(clause)) throw invalid(`${clause} given twice`);
    expectSymbol("=");
    clauses.set(clause, expectWord());
  }
  const assocClass = clauses.get("ASSOCCLASS");
  const resultClass = clauses.get("RESULTCLASS");
  if (assocClass === undefined || resultClass === undefined)
    throw invalid(`AssocClass and ResultClass are both required (${ASSOCIATORS_FORM})`);
  return { sourceClass, sourceKeys, assocClass, resultClass };
}

function parseSelect(tokens: readonly Token[]): WqlQuery {
  let at = 0;
  const next = (): Token | undefined => tokens[at++];
  const keyword = (word: string): void => {
    const t = next();
    if (t?.kind !== "word" || t.text.toUpperCase() !== word) {
      throw invalid(
        `expected ${word}${t === undefined ? " before the end" : `, found ${JSON.stringify(t.text)}`} (only SELECT * FROM Class [WHERE Prop = value [AND …]] is supported)`,
      );
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
      if (eq?.kind !== "symbol" || eq.text !== "=")
        throw invalid(`expected = after ${property.text} (only = is supported)`);
      const value = next();
      if (value?.kind !== "string" && value?.kind !== "number")
        throw invalid(`expected a string or number after ${property.text} =`);
      conditions.push({ property: property.text, value: value.text });
      if (conditions.length > MAX_WQL_CONDITIONS) throw invalid(`more than ${MAX_WQL_CONDITIONS} conditions`);
      if (at >= tokens.length) break;
      keyword("AND");
    }
  }
  return { className: cls.text, conditions };
}

/**
 * Whether `instance` satisfies every condition: scalar properties compared as text ignoring
 * case (as WMI compares strings); a NULL property matches nothing.
 * @throws {SimError} `invalid-argument` for a property the class does not have or an array property.
 */
export function matchesConditions(target: WsmanInstance, conditions: readonly WqlCondition[]): boolean {
  let all = true;
  for (const condition of conditions) {
    const entry = [...target.properties].find(([name]) => equalsIgnoreCase(name, condition.property));
    if (entry === undefined)
      throw new SimError(
        "invalid-argument",
        `invalid WQL query: ${target.className} has no property ${condition.property}`,
      );
    const value = entry[1];
    if (Array.isArray(value))
      throw new SimError(
        "invalid-argument",
        `invalid WQL query: ${entry[0]} is an array and cannot be compared with =`,
      );
    if (typeof value !== "string" || !equalsIgnoreCase(value, condition.value)) all = false;
  }
  return all;
}
