// `pi:worker/workspace` over an in-memory map: files by normalised path, directories as a set.
// Every call is all or nothing, as the contract asks, because each one checks before it changes.

import { beneath, fsError, normalise, parent } from './paths.mjs';

/** A workspace held in memory. `files` seeds it: `{ '/src/a.ts': 'text' }`. */
export class MemoryWorkspace {
  constructor(files = {}) {
    /** @type {Map<string, {bytes: Uint8Array, mtimeMs: bigint}>} */
    this.files = new Map();
    /** @type {Set<string>} */
    this.dirs = new Set(['/']);
    for (const [path, text] of Object.entries(files)) this.write(path, new TextEncoder().encode(text));
  }

  /** The files as text, by path: what a test asserts on. */
  snapshot() {
    const out = {};
    for (const [path, file] of [...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[path] = new TextDecoder().decode(file.bytes);
    }
    return out;
  }

  entry(path) {
    const file = this.files.get(path);
    if (file) return { path, kind: 'file', size: BigInt(file.bytes.length), mtimeMs: file.mtimeMs };
    if (this.dirs.has(path)) return { path, kind: 'directory', size: 0n, mtimeMs: 0n };
    return undefined;
  }

  /** Every path beneath `dir`, sorted. */
  beneath(dir) {
    return [...this.dirs, ...this.files.keys()].filter((p) => beneath(p, dir)).sort();
  }

  directory(raw) {
    const path = normalise(raw);
    if (this.files.has(path)) throw fsError('not-a-directory', path);
    if (!this.dirs.has(path)) throw fsError('not-found', path);
    return path;
  }

  /** The WIT functions, bound to this workspace. */
  imports() {
    const bind = (name) => this[name].bind(this);
    const names = ['read', 'write', 'stat', 'list', 'walk', 'mkdir', 'remove', 'rename', 'stats', 'search'];
    return Object.fromEntries(names.map((name) => [name, bind(name)]));
  }

  read(raw) {
    const path = normalise(raw);
    if (this.dirs.has(path)) throw fsError('not-a-file', path);
    const file = this.files.get(path);
    if (!file) throw fsError('not-found', path);
    return file.bytes;
  }

  write(raw, contents) {
    const path = normalise(raw);
    if (path === '/' || this.dirs.has(path)) throw fsError('not-a-file', path);
    for (let dir = parent(path); dir !== '/'; dir = parent(dir)) {
      if (this.files.has(dir)) throw fsError('not-a-directory', dir);
    }
    for (let dir = parent(path); !this.dirs.has(dir); dir = parent(dir)) this.dirs.add(dir);
    this.files.set(path, { bytes: new Uint8Array(contents), mtimeMs: BigInt(Date.now()) });
  }

  stat(raw) {
    const path = normalise(raw);
    const entry = this.entry(path);
    if (!entry) throw fsError('not-found', path);
    return entry;
  }

  list(raw) {
    const dir = this.directory(raw);
    return this.beneath(dir)
      .filter((p) => parent(p) === dir)
      .map((p) => this.entry(p));
  }

  walk(raw) {
    return this.beneath(this.directory(raw)).map((p) => this.entry(p));
  }

  mkdir(raw) {
    const path = normalise(raw);
    if (this.files.has(path)) throw fsError('already-exists', path);
    for (let dir = parent(path); dir !== '/'; dir = parent(dir)) {
      if (this.files.has(dir)) throw fsError('not-a-directory', dir);
    }
    for (let dir = path; !this.dirs.has(dir); dir = parent(dir)) this.dirs.add(dir);
  }

  remove(raw, recursive) {
    const path = normalise(raw);
    if (this.files.delete(path)) return;
    if (path === '/' || !this.dirs.has(path)) throw fsError(path === '/' ? 'invalid-path' : 'not-found', path);
    const inside = this.beneath(path);
    if (inside.length && !recursive) throw fsError('directory-not-empty', path);
    for (const p of inside) this.files.delete(p) || this.dirs.delete(p);
    this.dirs.delete(path);
  }

  rename(rawSource, rawDestination) {
    const [source, destination] = [normalise(rawSource), normalise(rawDestination)];
    if (!this.entry(source)) throw fsError('not-found', source);
    if (this.entry(destination)) throw fsError('already-exists', destination);
    if (beneath(destination, source)) throw fsError('invalid-path', `${destination} is inside ${source}`);
    const moved = [source, ...this.beneath(source)];
    for (let dir = parent(destination); !this.dirs.has(dir); dir = parent(dir)) this.dirs.add(dir);
    for (const from of moved) {
      const to = destination + from.slice(source.length);
      if (this.files.has(from)) {
        this.files.set(to, this.files.get(from));
        this.files.delete(from);
      } else {
        this.dirs.add(to);
        this.dirs.delete(from);
      }
    }
  }

  stats() {
    let totalBytes = 0n;
    for (const file of this.files.values()) totalBytes += BigInt(file.bytes.length);
    return { fileCount: BigInt(this.files.size), directoryCount: BigInt(this.dirs.size - 1), totalBytes };
  }

  search(paths, options) {
    const escaped = options.literal ? options.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : options.pattern;
    let regex;
    try {
      regex = new RegExp(escaped, options.ignoreCase ? 'i' : '');
    } catch (e) {
      throw { payload: { tag: 'invalid-pattern', val: e.message } };
    }
    const result = { files: [], binary: [], more: false };
    let matches = 0;
    for (const raw of paths) {
      const path = normalise(raw);
      const file = this.files.get(path);
      if (!file) continue;
      if (file.bytes.subarray(0, 8000).includes(0)) {
        result.binary.push(path);
        continue;
      }
      const lines = new TextDecoder().decode(file.bytes).split('\n').map((l) => l.replace(/\r$/, ''));
      const keep = new Map();
      for (let i = 0; i < lines.length && !result.more; i++) {
        if (!regex.test(lines[i]) || (i === lines.length - 1 && lines[i] === '')) continue;
        if (matches === options.maxMatches) {
          result.more = true;
          break;
        }
        matches++;
        for (let j = Math.max(0, i - options.context); j <= Math.min(lines.length - 1, i + options.context); j++) {
          keep.set(j, keep.get(j) || j === i);
        }
      }
      if (!keep.size) continue;
      const chosen = [...keep].sort(([a], [b]) => a - b);
      result.files.push({
        path,
        lines: chosen.map(([i, isMatch]) => ({
          number: BigInt(i + 1),
          text: [...lines[i]].slice(0, options.maxLineChars).join(''),
          truncated: [...lines[i]].length > options.maxLineChars,
          isMatch,
        })),
      });
    }
    return result;
  }
}
