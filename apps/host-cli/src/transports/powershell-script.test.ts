// The PowerShell bridge script cannot run here (no Windows, no Hyper-V), so it is checked with
// a real PowerShell grammar: tree-sitter-powershell's WebAssembly parser, loaded through
// web-tree-sitter (no native build). The script must parse without ERROR or MISSING nodes,
// and its syntax tree must show that no request value can become code (only the commands it
// is meant to run, no dynamic invocation, no script blocks at all, no ScriptBlock/PowerShell
// types, no Invoke-Expression/Add-Type/…) and that every request is checked against the
// allow-list (the same lists as bridge-allow-list.ts) before a CIM cmdlet reaches WMI, each
// cmdlet given variables and plain literals only. Sanity tests prove each check can fail.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Language, type Node, Parser } from "web-tree-sitter";
import { HYPERV_NAMESPACES } from "../hyperv-wmi.js";
import {
  ALLOWED_ASSOCIATIONS,
  ALLOWED_ENUMERATE_CLASSES,
  ALLOWED_GET_CLASSES,
  ALLOWED_METHODS,
  ALLOWED_NAMESPACES,
  ALLOWED_QUERY_CLASSES,
  MAX_WQL_CHARS,
  WQL_SELECT_PATTERN,
} from "./bridge-allow-list.js";
import { bridgeScriptPath } from "./powershell.js";
import { BRIDGE_SCRIPT_NAME, PROTOCOL_VERSION } from "./powershell-protocol.js";

const require = createRequire(import.meta.url);
const SCRIPT_PATH = fileURLToPath(new URL(`../../powershell/${BRIDGE_SCRIPT_NAME}`, import.meta.url));

/** Cmdlets the bridge may call (besides its own functions). */
const ALLOWED_CMDLETS = [
  "Set-StrictMode",
  "Remove-TypeData",
  "Import-Module",
  "ConvertFrom-Json",
  "ConvertTo-Json",
  "New-CimInstance",
  "Get-CimInstance",
  "Get-CimAssociatedInstance",
  "Invoke-CimMethod",
];
/** The cmdlets that reach WMI: only the four operations call them, each after its allow-list check. */
const WMI_CMDLETS = ["Get-CimInstance", "Get-CimAssociatedInstance", "Invoke-CimMethod"];
/** A function that reaches WMI, and the allow-list check each WMI cmdlet in it must follow. */
interface Operation {
  readonly fn: string;
  readonly checks: Readonly<Record<string, string>>;
}
/** Each op's function (the only functions that reach WMI) and their checks. */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  query: { fn: "Invoke-QueryOp", checks: { "Get-CimInstance": "Assert-AllowedQuery" } },
  enumerate: {
    fn: "Invoke-EnumerateOp",
    checks: {
      "Get-CimInstance": "Assert-AllowedEnumeration",
      "Get-CimAssociatedInstance": "Assert-AllowedAssociation",
    },
  },
  get: { fn: "Invoke-GetOp", checks: { "Get-CimInstance": "Assert-AllowedGet" } },
  invoke: {
    fn: "Invoke-InvokeOp",
    checks: { "Get-CimInstance": "Assert-AllowedInvoke", "Invoke-CimMethod": "Assert-AllowedInvoke" },
  },
};
/** Commands that turn text into code or load code; never allowed, named so a slip says which. */
const FORBIDDEN_COMMANDS = [
  "Invoke-Expression",
  "iex",
  "Add-Type",
  "Invoke-Command",
  "icm",
  "New-Module",
  "nmo",
  "Start-Job",
  "Start-Process",
  "saps",
  "start",
  "Invoke-Item",
  "ii",
];
/** Members that build or run script blocks from text. */
const FORBIDDEN_MEMBERS = [
  "Create",
  "NewScriptBlock",
  "InvokeScript",
  "ExpandString",
  "Invoke",
  "InvokeReturnAsIs",
  "InvokeWithContext",
  "AddScript",
  "GetNewClosure",
];
/** Types that run code (last segment of the name). */
const FORBIDDEN_TYPES = ["ScriptBlock", "PowerShell", "RunspaceFactory", "Runspace", "Assembly", "Activator"];

let parser: Parser;

beforeAll(async () => {
  await Parser.init();
  const language = await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm"));
  parser = new Parser();
  parser.setLanguage(language);
});

function parse(source: string): Node {
  const tree = parser.parse(source);
  if (tree === null) throw new Error("tree-sitter returned no tree");
  return tree.rootNode;
}

function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.children) if (child !== null) yield* walk(child);
}

function where(node: Node): string {
  return `line ${node.startPosition.row + 1}:${node.startPosition.column + 1} ${JSON.stringify(node.text.slice(0, 60))}`;
}

/** ERROR and MISSING nodes, anywhere in the tree. */
function syntaxProblems(root: Node): string[] {
  const problems: string[] = [];
  for (const node of walk(root)) {
    if (node.type === "ERROR") problems.push(`syntax error at ${where(node)}`);
    else if (node.isMissing) problems.push(`missing ${node.type} at ${where(node)}`);
  }
  return problems;
}

/** Every way the script could run text as code or run something it is not meant to, from its syntax tree. */
function codeInjectionRisks(root: Node): string[] {
  const risks: string[] = [];
  const functions = new Set<string>();
  for (const node of walk(root)) {
    if (node.type === "function_statement") {
      const name = node.children.find((c) => c?.type === "function_name");
      if (name) functions.add(name.text.toLowerCase());
    }
  }
  const allowed = new Set([...ALLOWED_CMDLETS.map((c) => c.toLowerCase()), ...functions]);
  const forbidden = new Set(FORBIDDEN_COMMANDS.map((c) => c.toLowerCase()));
  for (const node of walk(root)) {
    switch (node.type) {
      case "command_invokation_operator":
        risks.push(`dynamic invocation (${node.text}) at ${where(node)}`);
        break;
      case "command_name_expr":
        risks.push(`command named by an expression at ${where(node)}`);
        break;
      case "command_name": {
        const name = node.text.toLowerCase();
        if (forbidden.has(name)) risks.push(`forbidden command ${node.text} at ${where(node)}`);
        else if (!allowed.has(name)) risks.push(`command ${node.text} is not on the allowed list at ${where(node)}`);
        break;
      }
      case "script_block_expression":
        risks.push(`script block at ${where(node)}`);
        break;
      case "member_name":
        if (FORBIDDEN_MEMBERS.some((m) => m.toLowerCase() === node.text.toLowerCase()))
          risks.push(`forbidden member .${node.text} at ${where(node)}`);
        break;
      case "type_name": {
        const last = node.text.split(".").pop() ?? "";
        if (FORBIDDEN_TYPES.some((t) => t.toLowerCase() === last.toLowerCase()))
          risks.push(`forbidden type [${node.text}] at ${where(node)}`);
        break;
      }
    }
  }
  return risks;
}

function functionsOf(root: Node): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const node of walk(root)) {
    if (node.type !== "function_statement") continue;
    const name = node.children.find((c) => c?.type === "function_name");
    if (name) out.set(name.text, node);
  }
  return out;
}

function commandName(command: Node): string | undefined {
  return command.children.find((c) => c?.type === "command_name")?.text;
}

/** The function a node is inside, if any. */
function enclosingFunction(node: Node): string | undefined {
  for (let at: Node | null = node.parent; at !== null; at = at.parent) {
    if (at.type === "function_statement") return at.children.find((c) => c?.type === "function_name")?.text;
  }
  return undefined;
}

/**
 * How requests could reach WMI unchecked: a WMI cmdlet outside the operations' functions, an
 * operation that calls one before (or without) its allow-list check, New-CimInstance without
 * -ClientOnly, an argument of a CIM cmdlet that is not a variable (or a property of one) or a
 * verbatim literal.
 */
function uncheckedWmiCalls(root: Node, operations: Readonly<Record<string, Operation>>): string[] {
  const problems: string[] = [];
  const byFunction = new Map(Object.values(operations).map((o) => [o.fn, o.checks]));
  for (const node of walk(root)) {
    if (node.type !== "command") continue;
    const name = commandName(node) ?? "";
    if (name === "New-CimInstance" || WMI_CMDLETS.includes(name)) {
      for (const element of node.children.find((c) => c?.type === "command_elements")?.children ?? []) {
        if (element === null || element.type === "command_parameter" || element.type === "command_argument_sep")
          continue;
        // A variable (or a property of one) or a verbatim literal: nothing that builds text.
        if (!/^(\$[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*|'[^']*')$/.test(element.text))
          problems.push(
            `${name} takes ${JSON.stringify(element.text)} (not a variable or a verbatim literal) at ${where(node)}`,
          );
      }
    }
    if (name === "New-CimInstance" && !/\s-ClientOnly\b/.test(node.text))
      problems.push(`New-CimInstance without -ClientOnly at ${where(node)}`);
    if (!WMI_CMDLETS.includes(name)) continue;
    const fn = enclosingFunction(node);
    const checks = fn === undefined ? undefined : byFunction.get(fn);
    if (checks === undefined) {
      problems.push(`${name} outside the operations' functions (in ${fn ?? "the script body"}) at ${where(node)}`);
      continue;
    }
    const check = checks[name] ?? "(a check for this cmdlet)";
    const checked = [...walk(functionsOf(root).get(fn!)!)].some(
      (c) => c.type === "command" && commandName(c) === check && c.startIndex < node.startIndex,
    );
    if (!checked) problems.push(`${name} in ${fn} before its ${check} at ${where(node)}`);
  }
  return problems;
}

/** The verbatim strings of the assignment to `$name`, in order (the quotes taken off). */
function literalsOf(root: Node, name: string): string[] {
  const assignment = [...walk(root)].find((n) => n.type === "assignment_expression" && n.text.startsWith(`$${name} `));
  if (assignment === undefined) throw new Error(`the script assigns no $${name}`);
  return [...walk(assignment)]
    .filter((n) => n.type === "verbatim_string_characters")
    .map((n) => n.text.slice(1, -1).replaceAll("''", "'"));
}

/** The number assigned to `$name`. */
function numberOf(root: Node, name: string): number {
  const assignment = [...walk(root)].find((n) => n.type === "assignment_expression" && n.text.startsWith(`$${name} `));
  return Number(assignment?.text.split("=")[1]?.trim());
}

describe("kvp-host-bridge.ps1, parsed with tree-sitter-powershell", () => {
  const source = readFileSync(SCRIPT_PATH, "utf8");

  it("is the script the transport starts by default", () => {
    expect(bridgeScriptPath()).toBe(SCRIPT_PATH);
  });

  it("parses without ERROR or MISSING nodes", () => {
    const root = parse(source);
    expect(syntaxProblems(root)).toEqual([]);
    expect(root.hasError).toBe(false);
    // It is PowerShell and not an empty parse: the functions and the request loop are there.
    const functions = [...walk(root)].filter((n) => n.type === "function_statement").length;
    expect(functions).toBeGreaterThan(10);
    expect([...walk(root)].some((n) => n.type === "while_statement")).toBe(true);
  });

  it("never runs text as code: only allowed commands, no script blocks, no dynamic invocation", () => {
    expect(codeInjectionRisks(parse(source))).toEqual([]);
  });

  it("calls the CIM cmdlets it is meant to, with ConvertTo-Json -Compress", () => {
    const commands = [...walk(parse(source))].filter((n) => n.type === "command");
    const names = new Set(commands.map((c) => c.children.find((x) => x?.type === "command_name")?.text));
    for (const cmdlet of [
      "Get-CimInstance",
      "Get-CimAssociatedInstance",
      "New-CimInstance",
      "Invoke-CimMethod",
      "ConvertFrom-Json",
      "ConvertTo-Json",
    ])
      expect(names).toContain(cmdlet);
    const json = commands.filter((c) => c.text.startsWith("ConvertTo-Json"));
    expect(json.length).toBeGreaterThan(0);
    for (const c of json) expect(c.text).toMatch(/-Compress\b/);
    expect(source.charCodeAt(0)).not.toBe(0xfeff);
  });

  it("holds the allow-list of bridge-allow-list.ts, and the protocol version kvp-host speaks", () => {
    const root = parse(source);
    expect(literalsOf(root, "AllowedNamespaces")).toEqual([...ALLOWED_NAMESPACES]);
    expect([...ALLOWED_NAMESPACES].sort()).toEqual(Object.values(HYPERV_NAMESPACES).sort());
    expect(literalsOf(root, "AllowedQueryClasses")).toEqual([...ALLOWED_QUERY_CLASSES]);
    expect(literalsOf(root, "AllowedEnumerateClasses")).toEqual([...ALLOWED_ENUMERATE_CLASSES]);
    expect(literalsOf(root, "AllowedAssociations")).toEqual([...ALLOWED_ASSOCIATIONS]);
    expect(literalsOf(root, "AllowedGetClasses")).toEqual([...ALLOWED_GET_CLASSES]);
    expect(literalsOf(root, "AllowedMethods")).toEqual(Object.entries(ALLOWED_METHODS).flat());
    expect(literalsOf(root, "WqlSelectPattern")).toEqual([WQL_SELECT_PATTERN.source]);
    expect(numberOf(root, "MaxWqlChars")).toBe(MAX_WQL_CHARS);
    expect(numberOf(root, "ProtocolVersion")).toBe(PROTOCOL_VERSION);
  });

  it("dispatches each op to its function, and each function checks the allow-list before reaching WMI", () => {
    const root = parse(source);
    const functions = functionsOf(root);
    for (const [op, { fn, checks }] of Object.entries(OPERATIONS)) {
      expect(functions.has(fn), fn).toBe(true);
      expect(source).toContain(`$op -ceq '${op}'`);
      const body = functions.get(fn)!;
      for (const check of Object.values(checks))
        expect(
          [...walk(body)].some((n) => n.type === "command" && commandName(n) === check),
          `${fn} ${check}`,
        ).toBe(true);
    }
    expect(uncheckedWmiCalls(root, OPERATIONS)).toEqual([]);
    // Every WMI cmdlet is there, each in an operation.
    const calls = [...walk(root)].filter((n) => n.type === "command" && WMI_CMDLETS.includes(commandName(n) ?? ""));
    expect(new Set(calls.map((c) => commandName(c)))).toEqual(new Set(WMI_CMDLETS));
  });
});

describe("the checks themselves (each must be able to fail)", () => {
  it.each([
    ["an unclosed function", "function Get-X {\n  if ($a) {\n"],
    ["a stray closing parenthesis", "$x = Get-CimInstance -Namespace $n)\n"],
    ["an unterminated string", "$x = 'abc\n"],
  ])("reports %s", (_, snippet) => {
    expect(syntaxProblems(parse(snippet)).length).toBeGreaterThan(0);
  });

  it.each([
    ["Invoke-Expression", "Invoke-Expression $line", /forbidden command Invoke-Expression/],
    ["iex", "$line | iex", /forbidden command iex/],
    ["Add-Type", "Add-Type -TypeDefinition $source", /forbidden command Add-Type/],
    ["[scriptblock]::Create", "$b = [scriptblock]::Create($text)", /forbidden (member \.Create|type \[scriptblock\])/],
    ["a script block literal", "$b = { Get-CimInstance }", /script block/],
    ["& with a string", '& "Get-$verb"', /dynamic invocation/],
    ["InvokeScript", "$ExecutionContext.InvokeCommand.InvokeScript($text)", /forbidden member \.InvokeScript/],
    ["[PowerShell]::Create", "$ps = [System.Management.Automation.PowerShell]::Create()", /forbidden type/],
    ["an unlisted cmdlet", "Remove-Item -Path $p", /not on the allowed list/],
  ])("flags %s", (_, snippet, expected) => {
    const root = parse(snippet);
    expect(syntaxProblems(root)).toEqual([]);
    expect(codeInjectionRisks(root).join("\n")).toMatch(expected);
  });

  const ops = { query: { fn: "Invoke-QueryOp", checks: { "Get-CimInstance": "Assert-AllowedQuery" } } };
  it.each([
    [
      "a WMI cmdlet before the check",
      "function Invoke-QueryOp {\n    param($R)\n    $f = Get-CimInstance -Query $wql\n    $n = Assert-AllowedQuery -Wql $wql\n}\n",
      /Get-CimInstance in Invoke-QueryOp before its Assert-AllowedQuery/,
    ],
    [
      "a WMI cmdlet after another cmdlet's check",
      "function Invoke-QueryOp {\n    param($R)\n    $n = Assert-AllowedGet -Path $p\n    $f = Get-CimInstance -Query $wql\n}\n",
      /before its Assert-AllowedQuery/,
    ],
    [
      "a WMI cmdlet without any check",
      "function Invoke-QueryOp {\n    param($R)\n    $f = Get-CimInstance -Query $wql\n}\n",
      /before its Assert-AllowedQuery/,
    ],
    [
      "a WMI cmdlet outside the operations",
      "function Get-Anything {\n    param($R)\n    $n = Assert-AllowedQuery -Wql $wql\n    $f = Invoke-CimMethod -InputObject $x -MethodName $m\n}\n",
      /Invoke-CimMethod outside the operations' functions \(in Get-Anything\)/,
    ],
    [
      "New-CimInstance that would create an instance in WMI",
      "$x = New-CimInstance -Namespace $n -ClassName $c -Property $p\n",
      /New-CimInstance without -ClientOnly/,
    ],
    [
      "request data spliced into an argument",
      'function Invoke-QueryOp {\n    param($R)\n    $n = Assert-AllowedQuery -Wql $wql\n    $f = Get-CimInstance -Query "SELECT * FROM $class"\n}\n',
      /Get-CimInstance takes "\\"SELECT \* FROM \$class\\"" \(not a variable or a verbatim literal\)/,
    ],
  ])("flags %s", (_, snippet, expected) => {
    const root = parse(snippet);
    expect(syntaxProblems(root)).toEqual([]);
    expect(uncheckedWmiCalls(root, ops).join("\n")).toMatch(expected);
  });

  it("reads the allow-list's literals, doubled quotes included", () => {
    expect(literalsOf(parse("$List = @('a', 'it''s')\n"), "List")).toEqual(["a", "it's"]);
    expect(() => literalsOf(parse("$Other = @('a')\n"), "List")).toThrow(/assigns no \$List/);
  });
});
