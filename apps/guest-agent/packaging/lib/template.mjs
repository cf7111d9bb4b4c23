// Text shipped in every form (README), written once with the parts that differ marked:
//   {{if deb standalone}} … {{end}}   kept when the build is any of the words (a form:
//                                     node|standalone, a format: deb|rpm|tar); blocks nest
//   {{name}}                           replaced by a value
//   {{# …}}                            a comment, dropped
// Directives and comments stand on lines of their own.

/**
 * Renders `template` for `tags` (the form and format being built) and `values`.
 * @param {string} template
 * @param {Set<string>} tags
 * @param {Record<string, string>} values
 * @returns {string}
 * @throws {Error} for an unknown placeholder or unbalanced blocks.
 */
export function renderTemplate(template, tags, values) {
  const out = [];
  const keep = [true];
  for (const line of template.split("\n")) {
    if (line.startsWith("{{#")) continue;
    const open = /^\{\{if ([a-z ]+)\}\}$/.exec(line.trim());
    if (open) {
      keep.push(keep.at(-1) === true && open[1].split(" ").some((tag) => tags.has(tag)));
      continue;
    }
    if (line.trim() === "{{end}}") {
      if (keep.length === 1) throw new Error("{{end}} without {{if}}");
      keep.pop();
      continue;
    }
    if (!keep.at(-1)) continue;
    out.push(
      line.replace(/\{\{([a-z]+)\}\}/g, (_, name) => {
        const value = values[name];
        if (value === undefined) throw new Error(`unknown placeholder {{${name}}}`);
        return value;
      }),
    );
  }
  if (keep.length !== 1) throw new Error("{{if}} without {{end}}");
  return out.join("\n");
}
