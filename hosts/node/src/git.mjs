// `pi:worker/git` over a `MemoryWorkspace`: a repository of snapshots kept in memory. Blob ids
// are git's (sha1 of `blob <size>\0<bytes>`); a commit id hashes its tree, parents, author and
// message. Diffs replace a changed file's lines as one hunk: correct, if not minimal. Paths are
// kept as the workspace's (`/src/a.ts`) and reported as git writes them (`src/a.ts`).

import { createHash } from 'node:crypto';

import { beneath, normalise } from './paths.mjs';

const sha1 = (...parts) => {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};
const blobId = (bytes) => sha1(`blob ${bytes.length}\0`, bytes);
const gitError = (tag, val) => ({ payload: val === undefined ? { tag } : { tag, val } });
/** A workspace path as git reports it: relative to the repository's root. */
const relative = (path) => path.slice(1);

/** A repository beside `workspace`, authored as `author` (`{ name, email }`). */
export class MemoryGit {
  constructor(workspace, author = { name: 'pi-worker', email: 'agent@pi-worker.local' }) {
    this.workspace = workspace;
    this.author = author;
    this.initialised = false;
    /** Commits by id: `{ info, tree }`, `tree` a Map of path to `{ id, bytes }`. */
    this.commits = new Map();
    this.branchHeads = new Map();
    this.branch = 'main';
    this.detached = undefined;
    /** @type {Map<string, {id: string, bytes: Uint8Array}>} */
    this.index = new Map();
  }

  /** The WIT functions, bound to this repository. */
  imports() {
    const names = ['init', 'status', 'add', 'commit', 'log', 'diff', 'branches', 'createBranch', 'checkout', 'show', 'restore'];
    return Object.fromEntries(
      names.map((name) => [
        name,
        (...args) => {
          if (name !== 'init' && !this.initialised) throw gitError('not-a-repository');
          return this[name](...args);
        },
      ]),
    );
  }

  head() {
    return this.detached ?? this.branchHeads.get(this.branch);
  }

  headTree() {
    const head = this.head();
    return head ? this.commits.get(head).tree : new Map();
  }

  worktree() {
    const tree = new Map();
    for (const [path, file] of this.workspace.files) tree.set(path, { id: blobId(file.bytes), bytes: file.bytes });
    return tree;
  }

  init() {
    if (this.initialised) return false;
    this.initialised = true;
    return true;
  }

  status() {
    const [head, work] = [this.headTree(), this.worktree()];
    return {
      branch: this.detached ? undefined : this.branch,
      head: this.head(),
      staged: changes(head, this.index),
      unstaged: changes(this.index, work).filter((c) => c.kind !== 'added'),
      untracked: [...work.keys()].filter((p) => !this.index.has(p)).sort().map(relative),
    };
  }

  add(paths) {
    const work = this.worktree();
    const chosen = paths.map(normalise);
    const inScope = (p) => chosen.some((c) => p === c || beneath(p, c));
    let changed = 0;
    const candidates = new Set([...work.keys(), ...this.index.keys()].filter(inScope));
    if (!candidates.size) throw gitError('not-tracked', paths.join(' '));
    for (const path of candidates) {
      const [now, staged] = [work.get(path), this.index.get(path)];
      if (now && now.id !== staged?.id) this.index.set(path, now);
      else if (!now && staged) this.index.delete(path);
      else continue;
      changed++;
    }
    return changed;
  }

  commit(message) {
    if (!message.trim()) throw gitError('empty-message');
    if (!changes(this.headTree(), this.index).length) throw gitError('nothing-to-commit');
    const parents = this.head() ? [this.head()] : [];
    const tree = new Map(this.index);
    const time = BigInt(Math.floor(Date.now() / 1000));
    const listing = [...tree].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, b]) => `${b.id} ${p}\n`).join('');
    const id = sha1(listing, parents.join(','), this.author.name, this.author.email, String(time), message);
    const info = { id, parents, authorName: this.author.name, authorEmail: this.author.email, time, message };
    this.commits.set(id, { info, tree });
    if (this.detached) this.detached = id;
    else this.branchHeads.set(this.branch, id);
    return info;
  }

  log(limit) {
    const out = [];
    for (let id = this.head(); id && out.length < limit; id = this.commits.get(id).info.parents[0]) {
      out.push(this.commits.get(id).info);
    }
    return out;
  }

  diff(path, staged) {
    const [from, to] = staged ? [this.headTree(), this.index] : [this.index, this.worktree()];
    const scope = path === undefined ? undefined : normalise(path);
    return fileDiffs(from, to).filter((d) => !scope || `/${d.path}` === scope || beneath(`/${d.path}`, scope));
  }

  branches() {
    const head = this.detached ? undefined : this.branch;
    return [...this.branchHeads].sort().map(([name, id]) => ({ name, head: id, current: name === head }));
  }

  createBranch(name) {
    if (!/^[A-Za-z0-9._/-]+$/.test(name) || name.startsWith('-') || name.includes('..')) throw gitError('invalid-name', name);
    if (this.branchHeads.has(name)) throw gitError('branch-exists', name);
    const head = this.head();
    if (!head) throw gitError('no-commits');
    this.branchHeads.set(name, head);
    return { name, head, current: false };
  }

  checkout(rev, create) {
    if (create) this.createBranch(rev);
    const target = this.branchHeads.get(rev) ?? (this.commits.has(rev) ? rev : undefined);
    if (!target) throw gitError('unknown-revision', rev);
    const { staged, unstaged } = this.status();
    const dirty = [...staged, ...unstaged].map((c) => c.path);
    if (dirty.length) throw gitError('would-lose-changes', dirty);
    const [current, next] = [this.headTree(), this.commits.get(target).tree];
    let [updated, removed] = [0, 0];
    for (const path of current.keys()) {
      if (!next.has(path)) {
        this.workspace.remove(path, false);
        removed++;
      }
    }
    for (const [path, blob] of next) {
      if (current.get(path)?.id !== blob.id) {
        this.workspace.write(path, blob.bytes);
        updated++;
      }
    }
    this.index = new Map(next);
    [this.branch, this.detached] = this.branchHeads.has(rev) ? [rev, undefined] : [this.branch, target];
    return { branch: this.detached ? undefined : this.branch, head: target, updated, removed };
  }

  show(rev) {
    const id = rev === undefined ? this.head() : (this.branchHeads.get(rev) ?? (this.commits.has(rev) ? rev : undefined));
    if (!id) throw rev === undefined ? gitError('no-commits') : gitError('unknown-revision', rev);
    const { info, tree } = this.commits.get(id);
    const parent = info.parents[0] ? this.commits.get(info.parents[0]).tree : new Map();
    return [info, fileDiffs(parent, tree)];
  }

  restore(raw) {
    const path = normalise(raw);
    const staged = this.index.get(path);
    if (!staged) throw gitError('not-tracked', path);
    this.workspace.write(path, staged.bytes);
  }
}

/** What changed from tree `from` to tree `to`, sorted by path. */
function changes(from, to) {
  const paths = [...new Set([...from.keys(), ...to.keys()])].sort();
  return paths.flatMap((path) => {
    const [a, b] = [from.get(path), to.get(path)];
    if (a?.id === b?.id) return [];
    return [{ path: relative(path), kind: !a ? 'added' : !b ? 'deleted' : 'modified' }];
  });
}

/** The changes from `from` to `to` with their lines: one hunk per changed file. */
function fileDiffs(from, to) {
  return changes(from, to).map(({ path, kind }) => {
    const [a, b] = [from.get(`/${path}`)?.bytes, to.get(`/${path}`)?.bytes];
    const binary = [a, b].some((bytes) => bytes?.subarray(0, 8000).includes(0));
    if (binary) return { path, kind, binary, hunks: [] };
    const lines = (bytes) => (bytes?.length ? new TextDecoder().decode(bytes).replace(/\n$/, '').split('\n') : []);
    const [old, now] = [lines(a), lines(b)];
    const hunk = {
      oldStart: old.length ? 1 : 0,
      oldLines: old.length,
      newStart: now.length ? 1 : 0,
      newLines: now.length,
      lines: [...old.map((text) => ({ kind: 'removed', text })), ...now.map((text) => ({ kind: 'added', text }))],
    };
    return { path, kind, binary, hunks: [hunk] };
  });
}
