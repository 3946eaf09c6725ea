// Fails when the flow escapes the generated types: `x as T`, `<T>x`, `x!`,
// the `any` type, or a @ts-ignore / @ts-expect-error / @ts-nocheck comment.
// Usage: node tools/no-casts.mjs FILE...
import { readFileSync } from "node:fs";
import ts from "typescript";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/no-casts.mjs FILE...");
  process.exit(2);
}

const problems = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const report = (pos, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(pos);
    problems.push(`${file}:${line + 1}:${character + 1}: ${what}`);
  };

  const visit = (node) => {
    if (ts.isAsExpression(node)) report(node.getStart(source), `cast: ${node.getText(source)}`);
    else if (ts.isTypeAssertionExpression(node)) report(node.getStart(source), `cast: ${node.getText(source)}`);
    else if (ts.isNonNullExpression(node)) report(node.getStart(source), `non-null assertion: ${node.getText(source)}`);
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node.getStart(source), "the any type");
    ts.forEachChild(node, visit);
  };
  visit(source);

  // Comments: leading and trailing trivia of every node and token.
  const seen = new Set();
  const comments = (ranges) => {
    for (const range of ranges ?? []) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      const directive = text.slice(range.pos, range.end).match(/@ts-(ignore|expect-error|nocheck)/);
      if (directive) report(range.pos, `suppression comment: ${directive[0]}`);
    }
  };
  const walk = (node) => {
    comments(ts.getLeadingCommentRanges(text, node.pos));
    comments(ts.getTrailingCommentRanges(text, node.end));
    for (const child of node.getChildren(source)) walk(child);
  };
  walk(source);
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`no-casts: ${problems.length} escape(s) from the generated types`);
  process.exit(1);
}
console.log(`no-casts: ${files.length} file(s) use the generated types without casts`);
