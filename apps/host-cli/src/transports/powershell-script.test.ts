// The PowerShell bridge script cannot run here (no Windows, no Hyper-V), so it is checked with
// a real PowerShell grammar: tree-sitter-powershell's WebAssembly parser, loaded through
// web-tree-sitter (no native build). The script must parse without ERROR or MISSING nodes,
// and its syntax tree must show that no request value can become code: only the commands it
// is meant to run, no dynamic invocation, no script blocks at all, no ScriptBlock/PowerShell
// types, no Invoke-Expression/Add-Type/…. Sanity tests prove each check can fail.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Language, type Node, Parser } from "web-tree-sitter";
import { bridgeScriptPath } from "./powershell.js";
import { BRIDGE_NAMESPACES, BRIDGE_SCRIPT_NAME } from "./powershell-protocol.js";
import { HYPERV_NAMESPACES } from "./wsman.js";

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
  "Invoke-CimMethod",
];
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

  it("accepts exactly the namespaces kvp-host uses", () => {
    const assignment = [...walk(parse(source))].find(
      (n) => n.type === "assignment_expression" && n.text.startsWith("$Namespaces"),
    );
    const literals = [...walk(assignment!)]
      .filter((n) => n.type === "verbatim_string_characters")
      .map((n) => n.text.slice(1, -1));
    expect(literals).toEqual([...BRIDGE_NAMESPACES]);
    expect([...BRIDGE_NAMESPACES].sort()).toEqual(Object.values(HYPERV_NAMESPACES).sort());
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
});
