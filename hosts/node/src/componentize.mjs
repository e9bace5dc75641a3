#!/usr/bin/env node
// `node src/componentize.mjs <agent.js> <wit-dir> <out.wasm>`: builds a JavaScript agent into a
// component of `agent-world` with componentize-js (SpiderMonkey inside). Prints the size and time.

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { componentize } from '@bytecodealliance/componentize-js';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';

const [source, wit, out] = process.argv.slice(2);
if (!source || !wit || !out) {
  console.error('usage: node src/componentize.mjs <agent.js> <wit-dir> <out.wasm>');
  process.exit(2);
}
// componentize-js reads the WIT through WASI; preview2-shim 0.26 preopens nothing by default.
_setPreopens({ '/': '/' });
const started = Date.now();
const { component } = await componentize({
  sourcePath: resolve(source),
  witPath: resolve(wit),
  worldName: 'agent-world',
  // An agent needs none of these; leaving them out keeps its imports to our interfaces.
  disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
});
await writeFile(out, component);
console.log(JSON.stringify({ bytes: component.length, ms: Date.now() - started }));
