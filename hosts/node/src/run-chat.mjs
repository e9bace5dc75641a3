#!/usr/bin/env node
// `node src/run-chat.mjs <agent.wasm> <scenario.json>`: runs one chat of the agent in the memory
// host and prints what happened as JSON (BigInts as strings). The scenario is
// `{ "files": {path: text}, "git": [{call, args}], "script": [[{text} | {tool, args}]], "message": "..." }`.

import { readFile } from 'node:fs/promises';

import { runChat } from './host.mjs';

const [wasm, scenario] = process.argv.slice(2);
if (!wasm || !scenario) {
  console.error('usage: node src/run-chat.mjs <agent.wasm> <scenario.json>');
  process.exit(2);
}
const result = await runChat(wasm, JSON.parse(await readFile(scenario, 'utf8')));
console.log(JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
