// Workspace paths, as `pi:worker/workspace` defines them: absolute inside the workspace
// (`/src/a.ts`), relative ones taken from `/`, `.` and `..` resolved, repeated slashes folded.

/** The normalised absolute path, or throws the WIT `invalid-path` error. */
export function normalise(path) {
  if (path.includes('\0')) throw fsError('invalid-path', 'a path may not contain a NUL byte');
  const parts = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) throw fsError('invalid-path', `${path} leaves the workspace`);
      parts.pop();
    } else {
      parts.push(segment);
    }
  }
  return '/' + parts.join('/');
}

/** The parent directory of a normalised path (`/` for `/a`). */
export function parent(path) {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** Whether `path` lies beneath directory `dir` (both normalised). */
export function beneath(path, dir) {
  return dir === '/' ? path !== '/' : path.startsWith(dir + '/');
}

/** A WIT `fs-error` as jco expects an import to throw it: `{ payload: variant }`. */
export function fsError(tag, val) {
  return { payload: { tag, val } };
}
