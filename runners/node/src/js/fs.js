// node:fs: the synchronous API on the natives, callback and promise versions built on it.
(function (pw, load) {
  "use strict";
  const asPath = (p) => (typeof URL !== "undefined" && p instanceof URL ? p.pathname : String(p));
  function withCode(fn) {
    return (...args) => {
      try {
        return fn(...args);
      } catch (error) {
        const match = /^([A-Z]+): [^,]*, (\w+) '(.*)'$/.exec(error.message);
        if (match) Object.assign(error, { code: match[1], syscall: match[2], path: match[3] });
        throw error;
      }
    };
  }
  const encodingOf = (options) => (typeof options === "string" ? options : options && options.encoding);
  const toData = (data) => {
    if (typeof data === "string") return data;
    if (ArrayBuffer.isView(data)) return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    return String(data);
  };
  function stats(raw) {
    return {
      size: raw.size,
      mtimeMs: raw.mtimeMs,
      mtime: new Date(raw.mtimeMs),
      isFile: () => raw.kind === "file",
      isDirectory: () => raw.kind === "directory",
      isSymbolicLink: () => false,
    };
  }
  const fs = {
    readFileSync: withCode((path, options) => {
      const encoding = encodingOf(options);
      if (encoding) return pw.readFile(asPath(path), false);
      return Buffer.from(pw.readFile(asPath(path), true));
    }),
    writeFileSync: withCode((path, data) => pw.writeFile(asPath(path), toData(data), false)),
    appendFileSync: withCode((path, data) => pw.writeFile(asPath(path), toData(data), true)),
    existsSync: (path) => pw.exists(asPath(path)),
    readdirSync: withCode((path, options) => {
      const names = pw.readdir(asPath(path));
      if (!(options && options.withFileTypes)) return names;
      return names.map((name) => {
        const s = stats(pw.stat(asPath(path) + "/" + name));
        return { name, isFile: s.isFile, isDirectory: s.isDirectory, isSymbolicLink: s.isSymbolicLink };
      });
    }),
    mkdirSync: withCode((path, options) => {
      const recursive = !!(options && options.recursive);
      if (recursive && pw.exists(asPath(path))) return undefined;
      pw.mkdir(asPath(path), recursive);
      return recursive ? asPath(path) : undefined;
    }),
    statSync: withCode((path) => stats(pw.stat(asPath(path)))),
    rmSync: withCode((path, options) => pw.rm(asPath(path), !!(options && options.recursive), !!(options && options.force))),
    rmdirSync: withCode((path, options) => pw.rm(asPath(path), true, !!(options && options.force))),
    unlinkSync: withCode((path) => pw.rm(asPath(path), false, false)),
    renameSync: withCode((from, to) => pw.rename(asPath(from), asPath(to))),
    copyFileSync: withCode((from, to) => pw.writeFile(asPath(to), pw.readFile(asPath(from), true), false)),
  };
  fs.lstatSync = fs.statSync;
  const promises = {};
  for (const [name, fn] of Object.entries(fs)) {
    if (!name.endsWith("Sync")) continue;
    const base = name.slice(0, -4);
    promises[base] = async (...args) => fn(...args);
    fs[base] = (...args) => {
      const callback = typeof args[args.length - 1] === "function" ? args.pop() : () => {};
      let result;
      try { result = fn(...args); } catch (error) { queueMicrotask(() => callback(error)); return; }
      queueMicrotask(() => callback(null, result));
    };
  }
  promises.access = async (path) => { if (!pw.exists(asPath(path))) fs.statSync(path); };
  fs.promises = promises;
  fs.constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };
  return fs;
})
