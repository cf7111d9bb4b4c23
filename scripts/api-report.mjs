#!/usr/bin/env node
// The public API of every published library, as a committed file per package, so that a
// change to what users can import shows in review instead of slipping through an index.ts.
//
//   node scripts/api-report.mjs            rewrite packages/<p>/api-report.md  (pnpm api:update)
//   node scripts/api-report.mjs --check    exit 1, naming the files, when a report differs
//                                          from the code                        (pnpm api:check)
//
// For each entry point of the published `exports` map (publishConfig.exports) the report lists
// every exported name with its kind and its declaration as the published .d.ts says it (the
// declarations are emitted in memory from the sources the "@hyperv-kvp/source" condition names,
// so no build is needed), and the names an exported signature uses that no entry point exports.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { NPM_PACKAGES } from "./lib/npm-packages.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_CONDITION = "@hyperv-kvp/source";
const REPORT_FILE = "api-report.md";

/** Declaration kinds as the report names them, by the emitted statement's syntax kind. */
const KINDS = new Map([
  [ts.SyntaxKind.FunctionDeclaration, "function"],
  [ts.SyntaxKind.ClassDeclaration, "class"],
  [ts.SyntaxKind.InterfaceDeclaration, "interface"],
  [ts.SyntaxKind.TypeAliasDeclaration, "type"],
  [ts.SyntaxKind.EnumDeclaration, "enum"],
  [ts.SyntaxKind.ModuleDeclaration, "namespace"],
  [ts.SyntaxKind.VariableStatement, "const"],
]);

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/**
 * The source entry points of a package's published exports map: [subpath, absolute source].
 * @throws Error when a published subpath has no source under the workspace condition.
 */
function entryPoints(dir) {
  const pkg = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
  const published = pkg.publishConfig?.exports ?? pkg.exports ?? {};
  const entries = [];
  for (const subpath of Object.keys(published)) {
    if (subpath === "./package.json") continue;
    const source = pkg.exports?.[subpath]?.[SOURCE_CONDITION];
    if (typeof source !== "string") throw new Error(`${dir}: exports["${subpath}"] has no ${SOURCE_CONDITION} source`);
    entries.push({ specifier: `${pkg.name}${subpath.slice(1)}`, file: join(ROOT, dir, source) });
  }
  return { name: pkg.name, entries };
}

/** A program over the entry points with the package's own tsconfig, set to emit declarations only. */
function createProgram(dir, files) {
  const configPath = join(ROOT, dir, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic },
  );
  if (!parsed) throw new Error(`${configPath}: cannot read`);
  const options = {
    ...parsed.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
  };
  // Ambient declarations the package keeps beside its sources (kvp-core's TextEncoder) come along.
  const ambient = parsed.fileNames.filter((file) => file.endsWith(".d.ts"));
  return ts.createProgram({ rootNames: [...files, ...ambient], options });
}

function onUnRecoverableConfigFileDiagnostic(diagnostic) {
  throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

/** The emitted .d.ts of every source file the program would emit, by source file name. */
function emitDeclarations(program) {
  const bySource = new Map();
  const result = program.emit(
    undefined,
    (fileName, text, _bom, _onError, sourceFiles) => {
      if (fileName.endsWith(".d.ts") && sourceFiles?.[0]) bySource.set(sourceFiles[0].fileName, text);
    },
    undefined,
    true,
  );
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].filter(
    (d) => d.category === ts.DiagnosticCategory.Error,
  );
  if (problems.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" };
    throw new Error(ts.formatDiagnostics(problems, host));
  }
  return bySource;
}

/** The name(s) a top-level statement of a .d.ts declares. */
function declaredNames(statement) {
  if (ts.isVariableStatement(statement)) return statement.declarationList.declarations.map((d) => d.name.getText());
  return statement.name && ts.isIdentifier(statement.name) ? [statement.name.text] : [];
}

/** Identifiers a declaration names as types or `typeof` targets (the first part of a qualified name). */
function referencedNames(node) {
  const names = [];
  const visit = (child) => {
    let name;
    if (ts.isTypeReferenceNode(child)) name = child.typeName;
    else if (ts.isExpressionWithTypeArguments(child)) name = child.expression;
    else if (ts.isTypeQueryNode(child)) name = child.exprName;
    while (name && (ts.isQualifiedName(name) || ts.isPropertyAccessExpression(name)))
      name = ts.isQualifiedName(name) ? name.left : name.expression;
    if (name && ts.isIdentifier(name)) names.push(name.text);
    if (ts.isImportTypeNode(child)) names.push({ importType: child });
    ts.forEachChild(child, visit);
  };
  visit(node);
  return names;
}

/**
 * Everything the report needs about one package: per entry point its exported names with kind
 * and declaration, and the names exported signatures use (as symbol keys, to check afterwards).
 */
function surfaceOf(dir) {
  const { name, entries } = entryPoints(dir);
  const program = createProgram(
    dir,
    entries.map((e) => e.file),
  );
  const checker = program.getTypeChecker();
  const emitted = emitDeclarations(program);
  const dtsCache = new Map();
  const dtsOf = (fileName) => {
    if (!dtsCache.has(fileName)) {
      const text = emitted.get(fileName);
      if (text === undefined) throw new Error(`${relative(ROOT, fileName)}: no declarations were emitted`);
      dtsCache.set(fileName, ts.createSourceFile(`${fileName}.d.ts`, text, ts.ScriptTarget.Latest, true));
    }
    return dtsCache.get(fileName);
  };
  const keyOf = (symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const declaration = target.declarations?.[0];
    return declaration ? `${declaration.getSourceFile().fileName}#${target.name}` : undefined;
  };
  // A module's export of `name`, followed through re-exports to where it is declared.
  const exportedFrom = (fileName, exportName) => {
    const file = program.getSourceFile(fileName);
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    const found = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === exportName);
    return found ? keyOf(found) : undefined;
  };
  const resolveSpecifier = (specifier, fromFile) =>
    ts.resolveModuleName(specifier, fromFile, program.getCompilerOptions(), ts.sys).resolvedModule?.resolvedFileName;

  // What a name used inside a .d.ts of `sourceFile` refers to: a declaration of that file, or an import.
  const referenceKey = (sourceFile, dts, reference) => {
    if (typeof reference !== "string") {
      const node = reference.importType;
      const specifier = node.argument.literal?.text;
      const first = node.qualifier && (ts.isIdentifier(node.qualifier) ? node.qualifier : leftmost(node.qualifier));
      const resolved = specifier && first && resolveSpecifier(specifier, sourceFile.fileName);
      return resolved ? exportedFrom(resolved, first.text) : undefined;
    }
    for (const statement of dts.statements) {
      if (ts.isImportDeclaration(statement)) {
        const bindings = statement.importClause?.namedBindings;
        if (!bindings || !ts.isNamedImports(bindings)) continue;
        const element = bindings.elements.find((e) => e.name.text === reference);
        if (!element) continue;
        const resolved = resolveSpecifier(statement.moduleSpecifier.text, sourceFile.fileName);
        return resolved ? exportedFrom(resolved, (element.propertyName ?? element.name).text) : undefined;
      }
      if (declaredNames(statement).includes(reference)) return `${sourceFile.fileName}#${reference}`;
    }
    return undefined; // a global (Uint8Array, Promise), a type parameter or a member name
  };

  const entryReports = [];
  const exportedKeys = new Set();
  const uses = [];
  for (const entry of entries) {
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry.file));
    const names = [];
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      exportedKeys.add(keyOf(symbol));
      const declarations = [];
      const kinds = new Set();
      const seen = new Set();
      for (const declaration of target.declarations ?? []) {
        const sourceFile = declaration.getSourceFile();
        if (seen.has(sourceFile.fileName)) continue;
        seen.add(sourceFile.fileName);
        const dts = dtsOf(sourceFile.fileName);
        for (const statement of dts.statements) {
          if (!KINDS.has(statement.kind) || !declaredNames(statement).includes(target.name)) continue;
          kinds.add(KINDS.get(statement.kind));
          declarations.push(printDeclaration(statement, dts));
          for (const reference of referencedNames(statement)) {
            const key = referenceKey(sourceFile, dts, reference);
            if (key && reference !== target.name) uses.push({ user: symbol.name, key });
          }
        }
      }
      if (declarations.length === 0)
        throw new Error(`${entry.specifier}: cannot find the declaration of ${symbol.name}`);
      const renamed = target.name !== symbol.name ? `// exported as ${symbol.name}\n` : "";
      names.push({ name: symbol.name, kind: [...kinds].join(" + "), text: renamed + declarations.join("\n") });
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    entryReports.push({ specifier: entry.specifier, source: relative(join(ROOT, dir), entry.file), names });
  }
  return { dir, name, entries: entryReports, exportedKeys, uses };
}

function leftmost(name) {
  while (ts.isQualifiedName(name)) name = name.left;
  return name;
}

/**
 * A .d.ts statement as the report shows it: no comments, no `export`/`declare` keywords, and
 * no private class members (the .d.ts lists their names, but users cannot reach them, and an
 * internal field would otherwise show as an API change).
 */
function printDeclaration(statement, dts) {
  let node = statement;
  if (ts.isClassDeclaration(statement)) {
    const isPrivate = (member) =>
      (member.name && ts.isPrivateIdentifier(member.name)) ||
      ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private;
    node = ts.factory.updateClassDeclaration(
      statement,
      statement.modifiers,
      statement.name,
      statement.typeParameters,
      statement.heritageClauses,
      statement.members.filter((member) => !isPrivate(member)),
    );
  }
  return printer
    .printNode(ts.EmitHint.Unspecified, node, dts)
    .replace(/^export /, "")
    .replace(/^declare /, "");
}

/** The report file's text for one package. */
function render(surface, unexported) {
  const lines = [
    `# ${surface.name}: public API`,
    "",
    "<!-- Written by scripts/api-report.mjs: run `pnpm api:update` after changing what the package exports;",
    "     `pnpm api:check` (part of `pnpm lint` and `npm test`) fails while this file differs from the code. -->",
    "",
    "Every name a user can import, with its declaration as the published `.d.ts` has it (comments left out).",
    "",
  ];
  for (const entry of surface.entries) {
    const counts = new Map([...new Set(KINDS.values())].map((kind) => [kind, 0]));
    for (const { kind } of entry.names) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const summary = [...counts]
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(", ");
    lines.push(
      `## \`${entry.specifier}\``,
      "",
      `From \`${entry.source}\`: ${entry.names.length} names (${summary}).`,
      "",
    );
    lines.push("```ts");
    lines.push(entry.names.map((n) => n.text).join("\n\n"));
    lines.push("```", "");
  }
  if (unexported.length > 0) {
    lines.push(
      "## Named by exported declarations but not exported",
      "",
      "A user sees these names in the types above but cannot import them.",
      "",
      ...unexported.map(({ name, users }) => `- \`${name}\` (in ${users.map((u) => `\`${u}\``).join(", ")})`),
      "",
    );
  }
  return lines.join("\n");
}

/** The libraries among the published packages: those whose exports map has module entry points. */
function libraries() {
  return NPM_PACKAGES.filter((dir) => entryPoints(dir).entries.length > 0);
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(`api-report: unknown argument ${unknown[0]} (usage: api-report.mjs [--check])\n`);
    process.exit(2);
  }
  const surfaces = libraries().map(surfaceOf);
  const exported = new Set(surfaces.flatMap((s) => [...s.exportedKeys]));
  const stale = [];
  for (const surface of surfaces) {
    const unexported = new Map();
    for (const { user, key } of surface.uses) {
      // Only this workspace's names: those of a dependency are that dependency's business.
      const file = key.slice(0, key.lastIndexOf("#"));
      if (exported.has(key) || relative(ROOT, file).startsWith("..") || file.includes("/node_modules/")) continue;
      const name = `${relative(ROOT, file)}: ${key.slice(key.lastIndexOf("#") + 1)}`;
      unexported.set(name, new Set([...(unexported.get(name) ?? []), user]));
    }
    const list = [...unexported]
      .map(([name, users]) => ({ name, users: [...users].sort() }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const text = render(surface, list);
    const path = join(ROOT, surface.dir, REPORT_FILE);
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {}
    if (current === text) continue;
    if (check) stale.push(relative(ROOT, path));
    else {
      writeFileSync(path, text);
      process.stdout.write(`api-report: wrote ${relative(ROOT, path)}\n`);
    }
  }
  if (stale.length > 0) {
    process.stderr.write(
      `api-report: ${stale.join(", ")} differ${stale.length === 1 ? "s" : ""} from the code: review the change to the public API and run pnpm api:update\n`,
    );
    process.exit(1);
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`api-report: ${error.message}\n`);
  process.exit(1);
}
