// node:path (POSIX only).
(function (pw, load) {
  "use strict";
  function normalizeParts(parts, absolute) {
    const out = [];
    for (const part of parts) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (out.length && out[out.length - 1] !== "..") out.pop();
        else if (!absolute) out.push("..");
      } else out.push(part);
    }
    return out;
  }
  const path = {
    sep: "/",
    delimiter: ":",
    isAbsolute: (p) => String(p).startsWith("/"),
    normalize(p) {
      p = String(p);
      if (p === "") return ".";
      const absolute = p.startsWith("/");
      const trailing = p.endsWith("/");
      let out = normalizeParts(p.split("/"), absolute).join("/");
      if (!out && !absolute) out = ".";
      if (out && trailing && out !== ".") out += "/";
      return (absolute ? "/" : "") + out;
    },
    join(...parts) {
      const joined = parts.filter((p) => String(p) !== "").join("/");
      return joined ? path.normalize(joined) : ".";
    },
    resolve(...parts) {
      let resolved = "";
      for (let i = parts.length - 1; i >= 0 && !resolved.startsWith("/"); i--) {
        if (parts[i]) resolved = parts[i] + (resolved ? "/" + resolved : "");
      }
      if (!resolved.startsWith("/")) resolved = pw.cwd() + (resolved ? "/" + resolved : "");
      return "/" + normalizeParts(resolved.split("/"), true).join("/");
    },
    dirname(p) {
      p = String(p);
      if (!p) return ".";
      const trimmed = p.length > 1 ? p.replace(/\/+$/, "") : p;
      const i = trimmed.lastIndexOf("/");
      if (i < 0) return ".";
      return i === 0 ? "/" : trimmed.slice(0, i);
    },
    basename(p, ext) {
      p = String(p);
      const trimmed = p.length > 1 ? p.replace(/\/+$/, "") : p;
      let base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
      if (ext && base.endsWith(ext) && base !== ext) base = base.slice(0, -ext.length);
      return base;
    },
    extname(p) {
      const base = path.basename(p);
      const i = base.lastIndexOf(".");
      return i <= 0 ? "" : base.slice(i);
    },
    relative(from, to) {
      const a = path.resolve(from).split("/").filter(Boolean);
      const b = path.resolve(to).split("/").filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...Array(a.length - i).fill(".."), ...b.slice(i)].join("/");
    },
    parse(p) {
      const base = path.basename(p);
      const ext = path.extname(p);
      const dir = p.includes("/") ? path.dirname(p) : "";
      return { root: p.startsWith("/") ? "/" : "", dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(o) {
      const base = o.base ?? (o.name ?? "") + (o.ext ?? "");
      const dir = o.dir ?? o.root ?? "";
      return dir ? (dir.endsWith("/") ? dir + base : dir + "/" + base) : base;
    },
  };
  path.posix = path;
  return path;
})
