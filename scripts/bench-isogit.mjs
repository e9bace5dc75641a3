// isomorphic-git (the git engine of the TypeScript project pi-worker succeeds) on a repository
// stock git made: `status` of the whole tree clean, `status` after `CHANGED` files changed (the
// caller changes them between the two calls), and `add` + `commit` of those files.
//
// Usage: node bench-isogit.mjs <dir> status | commit <file>...
// Prints one JSON object of milliseconds. Needs `isomorphic-git` resolvable (NODE_PATH).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const git = require('isomorphic-git');
const [dir, op, ...files] = process.argv.slice(2);

async function timed(f) {
  const start = process.hrtime.bigint();
  const out = await f();
  return [Number(process.hrtime.bigint() - start) / 1e6, out];
}

if (op === 'status') {
  const [ms, matrix] = await timed(() => git.statusMatrix({ fs, dir }));
  // [path, HEAD, workdir, stage]: anything but [1, 1, 1] is a change.
  const changed = matrix.filter(([, h, w, s]) => !(h === 1 && w === 1 && s === 1)).length;
  console.log(JSON.stringify({ ms, files: matrix.length, changed }));
} else if (op === 'commit') {
  const [ms] = await timed(async () => {
    for (const filepath of files) await git.add({ fs, dir, filepath });
    return git.commit({ fs, dir, message: 'bench', author: { name: 'bench', email: 'bench@example.com' } });
  });
  console.log(JSON.stringify({ ms }));
} else {
  console.error('usage: bench-isogit.mjs <dir> status | commit <file>...');
  process.exit(2);
}
