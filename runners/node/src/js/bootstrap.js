// Installs node's globals (console, process, Buffer, timers, require) and returns the bridge
// the Rust side calls: builtin(name), require(path), exportNames(value), setMain, report, emitExit.
(function (pw) {
  "use strict";
  const builtins = new Map();
  function load(name) {
    if (!builtins.has(name)) builtins.set(name, pw.compileBuiltin(name)(pw, load));
    return builtins.get(name);
  }

  // --- process ---
  const listeners = {};
  const process = {
    argv: pw.argv(),
    env: pw.env(),
    platform: pw.platform,
    version: "v22.0.0",
    versions: { node: "22.0.0" },
    exitCode: undefined,
    cwd: () => pw.cwd(),
    exit(code) {
      if (code !== undefined) process.exitCode = code;
      emit("exit", process.exitCode ?? 0);
      pw.exit(Number(process.exitCode ?? 0) | 0);
    },
    on(event, fn) { (listeners[event] ??= []).push(fn); return process; },
    stdout: { write(text) { pw.write(1, String(text)); return true; }, isTTY: false },
    stderr: { write(text) { pw.write(2, String(text)); return true; }, isTTY: false },
    nextTick(fn, ...args) { queueMicrotask(() => fn(...args)); },
    hrtime: { bigint: () => BigInt(Date.now()) * 1000000n },
  };
  process.once = process.on;
  process.addListener = process.on;
  function emit(event, ...args) {
    for (const fn of listeners[event] ?? []) fn(...args);
  }
  globalThis.process = process;
  globalThis.global = globalThis;

  // --- timers ---
  globalThis.setTimeout = (fn, ms, ...args) => pw.setTimer(() => fn(...args), ms ?? 0, false);
  globalThis.setInterval = (fn, ms, ...args) => pw.setTimer(() => fn(...args), ms ?? 0, true);
  globalThis.setImmediate = (fn, ...args) => pw.setTimer(() => fn(...args), 0, false);
  globalThis.clearTimeout = globalThis.clearInterval = globalThis.clearImmediate = (id) => {
    if (id !== undefined && id !== null) pw.clearTimer(id);
  };
  if (typeof globalThis.queueMicrotask !== "function") {
    globalThis.queueMicrotask = (fn) => { Promise.resolve().then(fn); };
  }

  // --- text and bytes ---
  class Buffer extends Uint8Array {
    static from(value, encoding) {
      if (typeof value === "string") {
        if (encoding === "base64") return Buffer.from(Uint8Array.from(atobBytes(value)));
        if (encoding === "hex") return Buffer.from((value.match(/../g) ?? []).map((h) => parseInt(h, 16)));
        return new Buffer(pw.utf8Encode(value));
      }
      if (value instanceof ArrayBuffer) return new Buffer(value);
      const out = new Buffer(value.length);
      out.set(value);
      return out;
    }
    static alloc(size, fill = 0) { return new Buffer(size).fill(fill); }
    static isBuffer(value) { return value instanceof Buffer; }
    static byteLength(text) { return pw.utf8Encode(String(text)).byteLength; }
    static concat(list) {
      const out = new Buffer(list.reduce((n, b) => n + b.length, 0));
      let offset = 0;
      for (const b of list) { out.set(b, offset); offset += b.length; }
      return out;
    }
    toString(encoding) {
      if (encoding === "hex") return Array.from(this, (b) => b.toString(16).padStart(2, "0")).join("");
      if (encoding === "base64") return btoaBytes(this);
      return pw.utf8Decode(this.buffer.slice(this.byteOffset, this.byteOffset + this.byteLength));
    }
    equals(other) { return this.length === other.length && this.every((b, i) => b === other[i]); }
  }
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function btoaBytes(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < bytes.length ? B64[n & 63] : "=";
    }
    return out;
  }
  function atobBytes(text) {
    const clean = text.replace(/[^A-Za-z0-9+/]/g, "");
    const out = [];
    for (let i = 0; i < clean.length; i += 4) {
      const n = [0, 1, 2, 3].reduce((acc, k) => (acc << 6) | Math.max(0, B64.indexOf(clean[i + k] ?? "A")), 0);
      out.push((n >> 16) & 255);
      if (i + 2 < clean.length) out.push((n >> 8) & 255);
      if (i + 3 < clean.length) out.push(n & 255);
    }
    return out;
  }
  globalThis.Buffer = Buffer;
  globalThis.TextEncoder = class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(text = "") { return new Uint8Array(pw.utf8Encode(String(text))); }
  };
  globalThis.TextDecoder = class TextDecoder {
    get encoding() { return "utf-8"; }
    decode(bytes) {
      if (bytes === undefined) return "";
      const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
      return pw.utf8Decode(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
    }
  };
  globalThis.btoa = (text) => btoaBytes(Array.from(String(text), (c) => c.charCodeAt(0)));
  globalThis.atob = (text) => String.fromCharCode(...atobBytes(String(text)));

  // --- structuredClone, performance, crypto (Math.random based: not for secrets) ---
  globalThis.structuredClone = function structuredClone(value, seen = new Map()) {
    if (value === null || typeof value !== "object") {
      if (typeof value === "function" || typeof value === "symbol") throw new TypeError(`${String(value)} could not be cloned.`);
      return value;
    }
    if (seen.has(value)) return seen.get(value);
    let copy;
    if (value instanceof Date) return new Date(value.getTime());
    if (value instanceof RegExp) return new RegExp(value.source, value.flags);
    if (ArrayBuffer.isView(value)) return value.slice();
    if (value instanceof Map) {
      copy = new Map();
      seen.set(value, copy);
      for (const [k, v] of value) copy.set(structuredClone(k, seen), structuredClone(v, seen));
      return copy;
    }
    if (value instanceof Set) {
      copy = new Set();
      seen.set(value, copy);
      for (const v of value) copy.add(structuredClone(v, seen));
      return copy;
    }
    copy = Array.isArray(value) ? [] : {};
    seen.set(value, copy);
    for (const key of Object.keys(value)) copy[key] = structuredClone(value[key], seen);
    return copy;
  };
  const started = Date.now();
  globalThis.performance = { now: () => Date.now() - started, timeOrigin: started };
  const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  globalThis.crypto = {
    randomUUID: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(Math.random() * 4)]}${hex(3)}-${hex(12)}`,
    getRandomValues(array) {
      for (let i = 0; i < array.length; i++) array[i] = Math.floor(Math.random() * 256);
      return array;
    },
  };

  // --- console ---
  const util = load("util");
  const counts = new Map();
  const timers = new Map();
  let indent = "";
  const out = (fd) => (...args) => {
    const text = util.format(...args);
    pw.write(fd, (indent ? text.replace(/^/gm, indent) : text) + "\n");
  };
  globalThis.console = {
    log: out(1), info: out(1), debug: out(1), error: out(2), warn: out(2), trace: out(2),
    dir: (value) => out(1)(util.inspect(value)),
    table: (value) => out(1)(util.inspect(value)),
    assert: (ok, ...args) => { if (!ok) out(2)("Assertion failed" + (args.length ? ": " + util.format(...args) : "")); },
    count: (label = "default") => { counts.set(label, (counts.get(label) ?? 0) + 1); out(1)(`${label}: ${counts.get(label)}`); },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => timers.set(label, Date.now()),
    timeEnd: (label = "default") => { out(1)(`${label}: ${Date.now() - (timers.get(label) ?? Date.now())}ms`); timers.delete(label); },
    timeLog: (label = "default") => out(1)(`${label}: ${Date.now() - (timers.get(label) ?? Date.now())}ms`),
    group: (...args) => { if (args.length) out(1)(...args); indent += "  "; },
    groupEnd: () => { indent = indent.slice(2); },
  };

  // --- CommonJS ---
  const cache = new Map();
  let mainModule;
  let mainPath;
  function dirname(path) {
    const i = path.lastIndexOf("/");
    return i <= 0 ? "/" : path.slice(0, i);
  }
  function makeRequire(fromDir) {
    const require = (specifier) => {
      let resolved;
      try {
        resolved = pw.resolve(String(specifier), fromDir);
      } catch (error) {
        error.code = "MODULE_NOT_FOUND";
        throw error;
      }
      return resolved.startsWith("node:") ? load(resolved.slice(5)) : requireFile(resolved);
    };
    require.resolve = (specifier) => pw.resolve(String(specifier), fromDir);
    require.cache = cache;
    Object.defineProperty(require, "main", { get: () => mainModule });
    return require;
  }
  function requireFile(path) {
    const cached = cache.get(path);
    if (cached) return cached.exports;
    if (path.endsWith(".json")) {
      const module = { id: path, filename: path, exports: JSON.parse(pw.readFile(path, false)), loaded: true };
      cache.set(path, module);
      return module.exports;
    }
    const module = { id: path, filename: path, path: dirname(path), exports: {}, loaded: false, children: [] };
    if (path === mainPath) mainModule = module;
    cache.set(path, module);
    try {
      const wrapper = pw.compileCommonJs(path);
      module.require = makeRequire(module.path);
      wrapper.call(module.exports, module.exports, module.require, module, path, module.path);
    } catch (error) {
      cache.delete(path);
      throw error;
    }
    module.loaded = true;
    return module.exports;
  }

  const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
  return {
    builtin: load,
    require: requireFile,
    exportNames(value) {
      if (value === null || (typeof value !== "object" && typeof value !== "function")) return [];
      return Object.keys(value).filter((key) => key !== "default" && IDENTIFIER.test(key));
    },
    setMain(path) {
      mainPath = path;
      process.argv[1] = path;
    },
    report(error) {
      pw.write(2, util.formatUncaught(error) + "\n");
    },
    emitExit() {
      emit("beforeExit", process.exitCode ?? 0);
      emit("exit", process.exitCode ?? 0);
      return Number(process.exitCode ?? 0) | 0;
    },
  };
})
