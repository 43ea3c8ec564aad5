#!/usr/bin/env node
// Standard-JSON compile with a solc from bench/node_modules, chosen by package name
// (e.g. `node solcjs.js solc-eas < input.json`). Imports resolve against bench/node_modules.
'use strict';
const fs = require('fs');
const path = require('path');

const here = __dirname;
const pkg = process.argv[2];
if (!pkg) {
  process.stderr.write('usage: solcjs.js <solc package alias> [--version] < standard-json\n');
  process.exit(2);
}
const solc = require(path.join(here, 'node_modules', pkg));
if (process.argv.includes('--version')) {
  process.stdout.write(solc.version() + '\n');
  process.exit(0);
}
function findImports(importPath) {
  const candidate = path.join(here, 'node_modules', importPath);
  if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  return { error: `File not found: ${importPath}` };
}
process.stdout.write(solc.compile(fs.readFileSync(0, 'utf8'), { import: findImports }));
