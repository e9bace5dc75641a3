// internal/inspect: util.inspect, following node's layout rules (80-column break length,
// up to 3 inner levels combined on one line, grouped columns for long arrays of short items,
// <ref *n> markers for circular references).
(function (pw, load) {
  "use strict";
  const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
  const BREAK_LENGTH = 80;

  function quote(text) {
    const q = !text.includes("'") ? "'" : !text.includes('"') ? '"' : !text.includes("`") ? "`" : "'";
    const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
    return q + (q === "'" ? escaped.replace(/'/g, "\\'") : escaped) + q;
  }

  const formatKey = (key) =>
    typeof key === "symbol" ? `[${key.toString()}]` : IDENTIFIER.test(key) ? key : quote(key);

  /// The first line of an error with its stack frames, like node's `err.stack`.
  function errorText(error) {
    let head = `${error.name ?? "Error"}`;
    if (typeof error.code === "string" && error.code.startsWith("ERR_") && !head.includes("[")) head += ` [${error.code}]`;
    if (error.message) head += `: ${error.message}`;
    const stack = typeof error.stack === "string" ? error.stack : "";
    // Frames of the runtime itself (bootstrap, assert internals, native calls) are noise to
    // the reader, as node hides its own from assertion errors.
    const frames = stack
      .split("\n")
      .filter((line) => /^\s+at /.test(line) && !/\(native\)$|\(node:(internal\/|assert:)/.test(line));
    return frames.length ? head + "\n" + frames.join("\n") : head;
  }

  const isClass = (fn) => {
    const descriptor = Object.getOwnPropertyDescriptor(fn, "prototype");
    return /^class[\s{]/.test(Function.prototype.toString.call(fn)) || (descriptor !== undefined && !descriptor.writable && typeof fn.prototype === "object");
  };

  function inspect(value, options = {}) {
    const depth = options.depth === undefined ? 2 : options.depth === null ? Infinity : options.depth;
    const ctx = { depth, seen: [], circular: new Map(), indentationLvl: 0, currentDepth: 0 };
    return formatValue(ctx, value, 0);
  }

  function formatPrimitive(value) {
    switch (typeof value) {
      case "string": return quote(value);
      case "number": return Object.is(value, -0) ? "-0" : String(value);
      case "bigint": return `${value}n`;
      case "symbol": return value.toString();
      case "undefined": return "undefined";
      default: return String(value);
    }
  }

  function formatValue(ctx, value, recurseTimes) {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return formatPrimitive(value);
    if (ctx.seen.includes(value)) {
      if (!ctx.circular.has(value)) ctx.circular.set(value, ctx.circular.size + 1);
      return `[Circular *${ctx.circular.get(value)}]`;
    }
    return formatRaw(ctx, value, recurseTimes);
  }

  function ownKeys(value, skip) {
    const keys = Object.keys(value).filter((k) => !skip(k));
    const symbols = Object.getOwnPropertySymbols(value).filter((s) => Object.prototype.propertyIsEnumerable.call(value, s));
    return [...keys, ...symbols];
  }

  function formatProperty(ctx, value, key, recurseTimes) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor && descriptor.get) return `${formatKey(key)}: [Getter${descriptor.set ? "/Setter" : ""}]`;
    if (descriptor && descriptor.set) return `${formatKey(key)}: [Setter]`;
    ctx.indentationLvl += 2;
    const text = formatValue(ctx, value[key], recurseTimes + 1);
    ctx.indentationLvl -= 2;
    return `${formatKey(key)}: ${text}`;
  }

  function constructorName(value) {
    const proto = Object.getPrototypeOf(value);
    if (proto === null) return null;
    return (proto.constructor && proto.constructor.name) || "Object";
  }

  function formatRaw(ctx, value, recurseTimes) {
    let base = "";
    let braces = ["{", "}"];
    let entries = [];
    let keys;
    let isArrayLike = false;
    const name = constructorName(value);
    const prefix = name === null ? "[Object: null prototype] " : name !== "Object" ? `${name} ` : "";

    if (typeof value === "function") {
      const kind = isClass(value) ? "class" : "Function";
      base = kind === "class" ? `[class ${value.name || "(anonymous)"}]` : `[Function: ${value.name || "(anonymous)"}]`;
      if (kind === "Function" && !value.name) base = "[Function (anonymous)]";
      keys = ownKeys(value, () => false);
      if (!keys.length) return base;
    } else if (value instanceof Error) {
      base = errorText(value);
      keys = ownKeys(value, (k) => k === "stack" || k === "message" || k === "name");
      if (recurseTimes > 0) base = `[${base}]`;
      if (!keys.length) return base;
    } else if (value instanceof Date) {
      return isNaN(value) ? "Invalid Date" : value.toISOString();
    } else if (value instanceof RegExp) {
      return value.toString();
    } else if (value instanceof Promise) {
      return "Promise { <pending> }";
    } else if (value instanceof WeakMap || value instanceof WeakSet) {
      return `${name} { <items unknown> }`;
    } else if (Array.isArray(value)) {
      isArrayLike = true;
      braces = [`${name === "Array" ? "" : `${name}(${value.length}) `}[`, "]"];
      keys = ownKeys(value, (k) => /^\d+$/.test(k));
    } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      if (name === "Buffer") {
        const bytes = Array.from(value.subarray(0, 50), (b) => b.toString(16).padStart(2, "0"));
        return `<Buffer${bytes.length ? " " + bytes.join(" ") : ""}${value.length > 50 ? ` ... ${value.length - 50} more bytes` : ""}>`;
      }
      isArrayLike = true;
      braces = [`${name}(${value.length}) [`, "]"];
      keys = [];
    } else if (value instanceof Map) {
      braces = [`${prefix.replace(/ $/, "")}(${value.size}) {`, "}"];
      keys = ownKeys(value, () => false);
    } else if (value instanceof Set) {
      braces = [`${prefix.replace(/ $/, "")}(${value.size}) {`, "}"];
      keys = ownKeys(value, () => false);
      isArrayLike = true;
    } else {
      keys = ownKeys(value, () => false);
      braces = [`${prefix}{`, "}"];
      if (!keys.length) return `${prefix}{}`;
    }

    if (recurseTimes > ctx.depth) {
      if (Array.isArray(value)) return "[Array]";
      return `[${name === null ? "Object: null prototype" : name}]`;
    }

    ctx.seen.push(value);
    ctx.currentDepth = recurseTimes;
    const next = (v) => {
      ctx.indentationLvl += 2;
      const text = formatValue(ctx, v, recurseTimes + 1);
      ctx.indentationLvl -= 2;
      return text;
    };
    if (Array.isArray(value) || (ArrayBuffer.isView(value) && isArrayLike)) {
      let holes = 0;
      const limit = Math.min(value.length, 100);
      for (let i = 0; i < limit; i++) {
        if (!(i in value)) { holes++; continue; }
        if (holes) { entries.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`); holes = 0; }
        entries.push(next(value[i]));
      }
      if (holes) entries.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
      if (value.length > 100) entries.push(`... ${value.length - 100} more item${value.length - 100 > 1 ? "s" : ""}`);
    } else if (value instanceof Map) {
      for (const [k, v] of value) entries.push(`${next(k)} => ${next(v)}`);
    } else if (value instanceof Set) {
      for (const v of value) entries.push(next(v));
    }
    const outputLength = entries.length;
    for (const key of keys) entries.push(formatProperty(ctx, value, key, recurseTimes));
    ctx.seen.pop();

    const count = entries.length;
    if (isArrayLike && entries.length > 6 && outputLength === entries.length) entries = groupArrayElements(ctx, entries, value);
    let result = reduceToSingleString(ctx, entries, base, braces, recurseTimes, count);
    const ref = ctx.circular.get(value);
    if (ref !== undefined) result = `<ref *${ref}> ${result}`;
    return result;
  }

  function groupArrayElements(ctx, output, value) {
    let totalLength = 0;
    let maxLength = 0;
    const separatorSpace = 2;
    const outputLength = output.length > 100 ? output.length - 1 : output.length;
    const dataLen = output.map((entry) => entry.length);
    for (let i = 0; i < outputLength; i++) {
      totalLength += dataLen[i] + separatorSpace;
      if (maxLength < dataLen[i]) maxLength = dataLen[i];
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < BREAK_LENGTH && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = Math.sqrt(actualMax - totalLength / output.length);
      const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
      const columns = Math.min(
        Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
        Math.floor((BREAK_LENGTH - ctx.indentationLvl) / actualMax),
        12,
        15,
      );
      if (columns <= 1) return output;
      const maxLineLength = [];
      for (let i = 0; i < columns; i++) {
        let lineLength = 0;
        for (let j = i; j < output.length; j += columns) if (dataLen[j] > lineLength) lineLength = dataLen[j];
        maxLineLength.push(lineLength + separatorSpace);
      }
      const numeric = value !== undefined && Array.from({ length: output.length }, (_, i) => value[i]).every((v) => typeof v === "number" || typeof v === "bigint");
      const tmp = [];
      for (let i = 0; i < outputLength; i += columns) {
        const max = Math.min(i + columns, outputLength);
        let line = "";
        let j = i;
        for (; j < max - 1; j++) {
          const cell = `${output[j]}, `;
          line += numeric ? cell.padStart(maxLineLength[j - i]) : cell.padEnd(maxLineLength[j - i]);
        }
        line += numeric ? output[j].padStart(maxLineLength[j - i] - separatorSpace) : output[j];
        tmp.push(line);
      }
      if (outputLength < output.length) tmp.push(output[outputLength]);
      return tmp;
    }
    return output;
  }

  function reduceToSingleString(ctx, output, base, braces, recurseTimes, count) {
    if (ctx.currentDepth - recurseTimes < 3 && count === output.length) {
      const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
      const totalLength = output.reduce((sum, entry) => sum + entry.length, output.length + start);
      if (totalLength + output.length <= BREAK_LENGTH && !output.some((e) => e.includes("\n")) && !base.includes("\n")) {
        return `${base ? `${base} ` : ""}${braces[0]} ${output.join(", ")} ${braces[1]}`;
      }
    }
    const indentation = `\n${" ".repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ""}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }

  return { inspect, errorText };
})
