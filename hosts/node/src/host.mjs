// A second host for pi-worker's agent component: the component, transpiled to JavaScript by jco,
// instantiated with our four interfaces implemented here and WASI from jco's preview2 shim.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { transpile } from '@bytecodealliance/jco';
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as io from '@bytecodealliance/preview2-shim/io';
import * as random from '@bytecodealliance/preview2-shim/random';

import { MemoryGit } from './git.mjs';
import { ScriptedModel } from './llm.mjs';
import { MemorySession } from './session.mjs';
import { MemoryWorkspace } from './workspace.mjs';

/** WASI, as the Rust standard library of a `wasm32-wasip2` component imports it. */
function wasi() {
  const kebab = (name) => name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  const imports = {};
  for (const [pkg, module] of [['cli', cli], ['io', io], ['random', random]]) {
    for (const [name, iface] of Object.entries(module)) imports[`wasi:${pkg}/${kebab(name)}`] = iface;
  }
  return imports;
}

/**
 * Transpiles the component at `wasmPath` and instantiates it against `host`'s interfaces.
 * Returns the component's `pi:worker/agent` export.
 */
export async function instantiate(wasmPath, host) {
  const { files } = await transpile(await readFile(wasmPath), { name: 'agent', instantiation: 'async', quiet: true });
  const dir = await mkdtemp(join(tmpdir(), 'pi-worker-jco-'));
  try {
    for (const [name, bytes] of Object.entries(files)) {
      if (name.endsWith('.js') || name.endsWith('.wasm')) await writeFile(join(dir, name.split('/').pop()), bytes);
    }
    const bindings = await import(pathToFileURL(join(dir, 'agent.js')).href);
    const compile = async (name) => WebAssembly.compile(await readFile(join(dir, name)));
    const instance = await bindings.instantiate(compile, {
      ...wasi(),
      'pi:worker/workspace': host.workspace.imports(),
      'pi:worker/git': host.git.imports(),
      'pi:worker/llm': host.model.imports(),
      'pi:worker/session': host.session.imports(),
      // This host runs no programs: `run` answers with a clean error the agent can read, and
      // there are no built-in programs to name.
      'pi:worker/process': {
        run: () => {
          throw { payload: { tag: 'unsupported', val: 'this host runs no programs' } };
        },
        builtins: () => [],
      },
    });
    return instance.agent;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A host with a workspace seeded with `files` and a model answering from `script`. */
export function memoryHost({ files = {}, script = [] } = {}) {
  const workspace = new MemoryWorkspace(files);
  return { workspace, git: new MemoryGit(workspace), model: new ScriptedModel(script), session: new MemorySession() };
}

/**
 * Runs one chat of the agent at `wasmPath` in a fresh memory host. Returns the reply (or the
 * agent's error), the files afterwards, the events the agent emitted and the model's requests.
 */
export async function runChat(wasmPath, { files, script, message, git = [] }) {
  const host = memoryHost({ files, script });
  for (const step of git) host.git.imports()[step.call](...(step.args ?? []));
  const agent = await instantiate(wasmPath, host);
  let reply;
  try {
    reply = {
      ok: agent.chat({ message, maxTurns: 20, maxToolOutputBytes: 100_000, contextTokens: 200_000n, compactAtPercent: 80 }),
    };
  } catch (e) {
    reply = { error: e.payload ?? String(e) };
  }
  return { reply, files: host.workspace.snapshot(), status: host.git.imports().status(), events: host.session.events, requests: host.model.requests };
}
