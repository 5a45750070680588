// Parses LogQL and TraceQL with Grafana's own lezer grammars (@grafana/lezer-logql, @grafana/lezer-traceql).
// stdin: JSON [{"id": "...", "language": "logql" | "traceql", "query": "..."}]
// stdout: JSON [{"id": "...", "errors": [{"from": 0, "to": 1, "line": 1, "column": 1, "near": "..."}]}]
// Lezer parsers recover from errors, so every error node (type.isError, shown as ⚠) is reported.
// Exit code: 0 when the input was read (findings or not), 2 on unreadable input.
import { readFileSync } from "node:fs";
import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";

const PARSERS = { logql, traceql };

function position(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function errors(parser, text) {
  const found = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) {
        const near = text.slice(Math.max(0, node.from - 10), node.to + 10);
        found.push({ from: node.from, to: node.to, ...position(text, node.from), near });
      }
    },
  });
  return found;
}

function check(item) {
  const parser = PARSERS[item.language];
  if (!parser) {
    return { id: item.id, errors: [{ from: 0, to: 0, line: 1, column: 1, near: `unknown language ${item.language}` }] };
  }
  return { id: item.id, errors: errors(parser, item.query) };
}

let items;
try {
  items = JSON.parse(readFileSync(0, "utf8"));
} catch (error) {
  process.stderr.write(`check.mjs: stdin is not JSON [{id, language, query}]: ${error.message}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(items.map(check)) + "\n");
