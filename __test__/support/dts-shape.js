'use strict';
// Checks a JS value against a type declared in index.d.ts, read with the TypeScript
// compiler API: every declared field present (unless optional), no field the type does
// not declare, each value of the declared kind (number: a finite number; string
// literal unions: one of the literals; arrays, tuples, nested interfaces, index
// signatures, unions, null). Used by types.test.js and its fixture.

const path = require('node:path');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..', '..');
const DTS = path.join(ROOT, 'index.d.ts');

/**
 * The declarations of index.d.ts. `edit(text)`, when given, rewrites the file's text
 * in memory before it is compiled (the self-check uses it to drop or rename a field).
 * Returns { typeOf(name), check(value, name) }.
 */
function loadDeclarations({ edit = null } = {}) {
  const options = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS };
  const host = ts.createCompilerHost(options);
  if (edit !== null) {
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) => {
      if (path.resolve(fileName) !== DTS) return getSourceFile(fileName, languageVersion, ...rest);
      const text = ts.sys.readFile(fileName);
      return ts.createSourceFile(fileName, edit(text), languageVersion, true);
    };
  }
  const program = ts.createProgram([DTS], options, host);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(DTS);
  const diagnostics = ts.getPreEmitDiagnostics(program, source);
  if (diagnostics.length > 0) {
    throw new Error(`index.d.ts does not compile: ${ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' })}`);
  }
  const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source)).map((s) => [s.name, s]));

  function typeOf(name) {
    const symbol = exported.get(name);
    if (symbol === undefined) throw new Error(`index.d.ts exports no type ${name}`);
    return checker.getDeclaredTypeOfSymbol(symbol);
  }

  const show = (type) => checker.typeToString(type);
  const describe = (value) => {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'an array';
    if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    if (typeof value === 'object') return 'an object';
    return `${typeof value} ${String(value)}`;
  };

  /** Problems of `value` against `type` at `where`, appended to `out`. */
  function visit(value, type, where, out, depth) {
    if (depth > 30) return;
    const f = type.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (type.isUnion()) {
      let best = null;
      for (const member of type.types) {
        const problems = [];
        visit(value, member, where, problems, depth + 1);
        if (problems.length === 0) return;
        // Report against the object member the value came closest to.
        const objectLike = (member.flags & ts.TypeFlags.Object) !== 0 && value !== null && typeof value === 'object';
        if (objectLike && (best === null || problems.length < best.length)) best = problems;
      }
      if (best !== null) out.push(...best);
      else out.push(`${where}: ${describe(value)} is not ${show(type)}`);
      return;
    }
    if (type.isStringLiteral() || type.isNumberLiteral()) {
      if (value !== type.value) out.push(`${where}: ${describe(value)} is not ${show(type)}`);
      return;
    }
    if (f & ts.TypeFlags.BooleanLiteral) {
      if (value !== (type.intrinsicName === 'true')) out.push(`${where}: ${describe(value)} is not ${show(type)}`);
      return;
    }
    if (f & ts.TypeFlags.String) {
      if (typeof value !== 'string') out.push(`${where}: ${describe(value)} is not a string`);
      return;
    }
    if (f & ts.TypeFlags.Number) {
      if (typeof value !== 'number') out.push(`${where}: ${describe(value)} is not a number`);
      else if (!Number.isFinite(value)) out.push(`${where}: ${value} is not a finite number`);
      return;
    }
    if (f & ts.TypeFlags.Boolean) {
      if (typeof value !== 'boolean') out.push(`${where}: ${describe(value)} is not a boolean`);
      return;
    }
    if (f & ts.TypeFlags.Null) {
      if (value !== null) out.push(`${where}: ${describe(value)} is not null`);
      return;
    }
    if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) {
      if (value !== undefined) out.push(`${where}: ${describe(value)} is not undefined`);
      return;
    }
    if (!(f & ts.TypeFlags.Object) && !(f & ts.TypeFlags.Intersection) && !(f & ts.TypeFlags.NonPrimitive)) {
      out.push(`${where}: cannot check type ${show(type)} (flags ${f})`);
      return;
    }
    if (type.getCallSignatures().length > 0) {
      if (typeof value !== 'function') out.push(`${where}: ${describe(value)} is not a function`);
      return;
    }
    if (checker.isTupleType(type)) {
      const elements = checker.getTypeArguments(type);
      if (!Array.isArray(value) || value.length !== elements.length) {
        out.push(`${where}: ${describe(value)} is not ${show(type)}`);
        return;
      }
      elements.forEach((t, i) => visit(value[i], t, `${where}[${i}]`, out, depth + 1));
      return;
    }
    if (checker.isArrayType(type)) {
      if (!Array.isArray(value)) {
        out.push(`${where}: ${describe(value)} is not an array (${show(type)})`);
        return;
      }
      const element = checker.getTypeArguments(type)[0];
      value.forEach((v, i) => visit(v, element, `${where}[${i}]`, out, depth + 1));
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      out.push(`${where}: ${describe(value)} is not an object (${show(type)})`);
      return;
    }
    const declared = new Map(checker.getPropertiesOfType(type).map((p) => [p.name, p]));
    const indexType = checker.getIndexTypeOfType(type, ts.IndexKind.String);
    for (const [name, prop] of declared) {
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      if (!Object.hasOwn(value, name)) {
        if (!optional) out.push(`${where}.${name}: missing (declared ${show(checker.getTypeOfSymbol(prop))})`);
        continue;
      }
      if (optional && value[name] === undefined) continue;
      visit(value[name], checker.getTypeOfSymbol(prop), `${where}.${name}`, out, depth + 1);
    }
    for (const key of Object.keys(value)) {
      if (declared.has(key)) continue;
      if (indexType !== undefined) visit(value[key], indexType, `${where}[${JSON.stringify(key)}]`, out, depth + 1);
      else out.push(`${where}.${key}: not declared in ${show(type)} (value ${describe(value[key])})`);
    }
  }

  /** The problems of `value` against the exported type `name` (an empty array when it conforms). */
  function check(value, name, where = name) {
    const out = [];
    visit(value, typeOf(name), where, out, 0);
    return out;
  }

  return { typeOf, check };
}

module.exports = { loadDeclarations, DTS };
