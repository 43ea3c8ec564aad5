#!/usr/bin/env node
// Print {abi, bytecode} of a typechain factory shipped in an npm package, as JSON.
// The factory module keeps its ABI and bytecode in the module-level constants `_abi` and
// `_bytecode`; the module is evaluated in a sandbox (with a stub for the `ethers` it only
// needs for its class bodies) and those two constants are read exactly as shipped.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: factory_artifact.js <file under bench/node_modules>\n');
  process.exit(2);
}
const file = path.join(__dirname, 'node_modules', target);
const source = fs.readFileSync(file, 'utf8');
class Stub {}
const sandbox = {
  exports: {},
  require: (name) => {
    if (name === 'ethers') return { ContractFactory: Stub, Contract: Stub, utils: { Interface: Stub } };
    throw new Error(`unexpected require(${name}) in ${target}`);
  },
};
sandbox.module = { exports: sandbox.exports };
vm.runInNewContext(`${source}\n;globalThis.__artifact = { abi: _abi, bytecode: _bytecode };`, sandbox, {
  filename: file,
});
process.stdout.write(JSON.stringify(sandbox.__artifact));
