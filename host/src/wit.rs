//! The contract as shipped: the `pi:worker` WIT package's files, embedded in the binary
//! (`pi-worker wit` prints them), and its version.

/// The package's `.wit` files, by name, in name order.
pub const FILES: &[(&str, &str)] = &[
    ("agent.wit", include_str!("../../wit/agent.wit")),
    ("git.wit", include_str!("../../wit/git.wit")),
    ("llm.wit", include_str!("../../wit/llm.wit")),
    ("process.wit", include_str!("../../wit/process.wit")),
    ("session.wit", include_str!("../../wit/session.wit")),
    ("workspace.wit", include_str!("../../wit/workspace.wit")),
    ("world.wit", include_str!("../../wit/world.wit")),
];

/// The package's version, from `package pi:worker@<version>;` in `world.wit`.
pub fn version() -> &'static str {
    let world = FILES
        .iter()
        .find(|(name, _)| *name == "world.wit")
        .map_or("", |(_, text)| text);
    world
        .lines()
        .find_map(|line| line.trim().strip_prefix("package pi:worker@")?.strip_suffix(';'))
        .unwrap_or("unknown")
}

/// The package's digest: sha256 over each file's name, a NUL, its bytes and a NUL, in name
/// order, as `sha256:<hex>`. `wit/digests.txt` records it for every version.
pub fn digest() -> String {
    let mut bytes = Vec::new();
    for (name, text) in FILES {
        for part in [name.as_bytes(), b"\0", text.as_bytes(), b"\0"] {
            bytes.extend_from_slice(part);
        }
    }
    crate::agents::content_hash(&bytes)
}

/// The whole package as one WIT text: each file under a `// wit/<name>` header, `world.wit`
/// (which declares the package) first.
pub fn package_text() -> String {
    let (world, interfaces): (Vec<_>, Vec<_>) = FILES.iter().partition(|(name, _)| *name == "world.wit");
    world
        .iter()
        .chain(&interfaces)
        .map(|(name, text)| format!("// wit/{name}\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wit_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../wit");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("wit/")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".wit"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, embedded, "add the new .wit file to wit::FILES");
    }

    #[test]
    fn the_package_text_declares_the_package_first_and_holds_every_file() {
        let text = package_text();
        assert!(text.starts_with("// wit/world.wit\npackage pi:worker@"), "{text}");
        assert_eq!(text.lines().filter(|l| l.starts_with("package ")).count(), 1);
        for (name, body) in FILES {
            assert!(text.contains(&format!("// wit/{name}\n{body}")), "{name}");
        }
        assert_ne!(version(), "unknown");
    }

    /// The versioning rule: a version's contract never changes. Changing `wit/` means bumping
    /// the package's version in `world.wit` and recording the new digest in `wit/digests.txt`
    /// (one line per version, never edited).
    #[test]
    fn the_contract_changes_only_with_a_version_bump() {
        let recorded = include_str!("../../wit/digests.txt");
        let lines: Vec<(&str, &str)> = recorded
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| l.split_once(' ').expect("`<version> sha256:<hex>`"))
            .collect();
        let mut versions: Vec<&str> = lines.iter().map(|(v, _)| *v).collect();
        versions.dedup();
        assert_eq!(versions.len(), lines.len(), "one line per version in wit/digests.txt");
        let (version, digest) = (version(), digest());
        match lines.iter().find(|(v, _)| *v == version) {
            Some((_, recorded)) => assert_eq!(
                *recorded, digest,
                "wit/ changed but its version ({version}) did not: bump `package pi:worker@…` in \
                 wit/world.wit and add `<new version> {digest}` to wit/digests.txt"
            ),
            None => panic!("pi:worker@{version} is new: add `{version} {digest}` to wit/digests.txt"),
        }
    }
}
