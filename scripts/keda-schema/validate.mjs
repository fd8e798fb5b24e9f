// Validates KEDA ScaledObjects against the schema of @kubernetes-models/keda (generated from
// KEDA's Go API types, github.com/kedacore/keda/v2/apis/keda/v1alpha1): types, required fields
// and formats through the package's own validators. Those accept unknown fields (the Go types
// say nothing about them) while kubectl's strict field validation rejects them, so every field is
// also looked up in the package's type declarations (*.d.ts), following the KEDA and Kubernetes
// types they import; free-form maps (labels, trigger metadata) are not checked field by field.
//
// Usage: node validate.mjs OBJECTS.json   (a JSON array of ScaledObjects; exit 1 on a problem)
// scripts/lint.sh copies this file next to the package it installs (.tools/npm-lint).
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");

// --- the type declarations ----------------------------------------------------------------------

const interfaces = new Map(); // .d.ts path -> { props: Map(name -> type text), imports: Map }

function declarationFile(from, specifier) {
  let base;
  if (specifier.startsWith(".")) base = resolve(dirname(from), specifier);
  else base = join(modules, specifier);
  base = base.replace(/\.js$/, "");
  const path = `${base}.d.ts`;
  return existsSync(path) ? path : null;
}

function parseDeclaration(path) {
  if (interfaces.has(path)) return interfaces.get(path);
  const text = readFileSync(path, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      imports.set(name.split(/\s+as\s+/).pop(), m[2]);
    }
  }
  // The file's interface: from `export interface I... {` to the `}` at column 0.
  const start = text.search(/^export interface \w+/m);
  const props = new Map();
  if (start >= 0) {
    const body = text.slice(text.indexOf("{", start) + 1, text.indexOf("\n}", start));
    // Top-level members are indented by four spaces; nested inline types by more.
    const lines = body.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const m = lines[i].match(/^ {4}"([^"]+)"\??: (.*)$/);
      if (!m) continue;
      let type = m[2];
      if (type.trim() === "{") type = "{...}"; // an inline (map) type: free-form
      props.set(m[1], type.replace(/;$/, "").trim());
    }
  }
  const entry = { path, props, imports, found: start >= 0 };
  interfaces.set(path, entry);
  return entry;
}

function check(value, declaration, where, problems) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!declaration.props.has(key)) {
      problems.push(`${where}.${key}: unknown field (not in ${declaration.path.split("node_modules/")[1]})`);
      continue;
    }
    let type = declaration.props.get(key);
    let items = false;
    const array = type.match(/^Array<(\w+)>$/);
    if (array) {
      type = array[1];
      items = true;
    }
    if (!/^I\w+$/.test(type) || !declaration.imports.has(type)) continue; // a primitive, a union, a map
    const file = declarationFile(declaration.path, declaration.imports.get(type));
    if (!file) continue;
    const nested = parseDeclaration(file);
    if (!nested.found) continue;
    if (items && Array.isArray(child)) {
      child.forEach((element, i) => check(element, nested, `${where}.${key}[${i}]`, problems));
    } else {
      check(child, nested, `${where}.${key}`, problems);
    }
  }
}

// --- main ---------------------------------------------------------------------------------------

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
const root = parseDeclaration(join(modules, "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject.d.ts"));
let failed = 0;
for (const object of objects) {
  const name = `ScaledObject ${object?.metadata?.name ?? "(no name)"}`;
  const problems = [];
  try {
    new ScaledObject(object).validate();
  } catch (error) {
    problems.push(...String(error.message).split(", "));
  }
  check(object, root, "", problems);
  for (const problem of problems) console.log(`${name}: ${problem}`);
  if (problems.length) failed++;
}
console.log(`${objects.length} ScaledObject(s) checked against @kubernetes-models/keda, ${failed} with problems`);
process.exit(failed ? 1 : 0);
