//! Workspace path normalisation: the only way a client- or guest-supplied path becomes a key.

/// Longest accepted path, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path contains a NUL byte.
    #[error("path contains a NUL byte")]
    Nul,
    /// A `..` segment climbs above the workspace root.
    #[error("path '{0}' leaves the workspace")]
    Escapes(String),
    /// The path is longer than [`MAX_PATH_BYTES`].
    #[error("path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
}

/// Normalises a workspace path to its absolute form (`/a/b`, or `/` for the root).
///
/// Relative paths are taken from the root; `.` segments and repeated slashes are dropped; `..`
/// removes the previous segment and is refused when there is none (the path would leave the
/// workspace). NUL bytes are refused.
///
/// ```
/// use pi_worker::storage::path::normalize;
/// assert_eq!(normalize("src//./a/../b.ts").unwrap(), "/src/b.ts");
/// assert!(normalize("../etc/passwd").is_err());
/// ```
pub fn normalize(input: &str) -> Result<String, PathError> {
    if input.contains('\0') {
        return Err(PathError::Nul);
    }
    if input.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in input.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathError::Escapes(input.to_string()));
                }
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(input.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The parent directory of a normalised path (`/` for top-level entries and for the root).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last segment of a normalised path (empty for the root).
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

/// Whether `path` lies strictly beneath the directory `dir` (both normalised).
pub fn is_beneath(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return path != "/";
    }
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_relative_dotted_and_repeated() {
        assert_eq!(normalize("").unwrap(), "/");
        assert_eq!(normalize("/").unwrap(), "/");
        assert_eq!(normalize(".").unwrap(), "/");
        assert_eq!(normalize("a/b").unwrap(), "/a/b");
        assert_eq!(normalize("/a//b/./c/").unwrap(), "/a/b/c");
        assert_eq!(normalize("/a/b/../c").unwrap(), "/a/c");
        assert_eq!(normalize("a/..").unwrap(), "/");
    }

    #[test]
    fn refuses_escapes_nul_and_huge() {
        assert_eq!(normalize(".."), Err(PathError::Escapes("..".into())));
        assert!(normalize("/a/../../b").is_err());
        assert!(normalize("../../etc/passwd").is_err());
        assert_eq!(normalize("a\0b"), Err(PathError::Nul));
        assert_eq!(normalize(&"a".repeat(MAX_PATH_BYTES + 1)), Err(PathError::TooLong));
    }

    proptest::proptest! {
        /// Whatever the input, a normalised path is absolute, canonical, idempotent and inside.
        #[test]
        fn normalised_paths_stay_inside(segments in proptest::collection::vec(
            proptest::prop_oneof!["[a-z]{1,3}", proptest::strategy::Just("..".to_string()),
                proptest::strategy::Just(".".to_string()), proptest::strategy::Just(String::new()),
                "\\PC{1,4}"],
            0..12,
        ), absolute in proptest::bool::ANY) {
            let input = format!("{}{}", if absolute { "/" } else { "" }, segments.join("/"));
            match normalize(&input) {
                Ok(path) => {
                    proptest::prop_assert!(path.starts_with('/'));
                    proptest::prop_assert!(path == "/" || !path.ends_with('/'));
                    proptest::prop_assert!(!path.contains('\0'));
                    proptest::prop_assert!(path.split('/').skip(1).all(|s| !s.is_empty() && s != "." && s != "..") || path == "/");
                    proptest::prop_assert_eq!(normalize(&path), Ok(path.clone()));
                }
                Err(PathError::Nul) => proptest::prop_assert!(input.contains('\0')),
                Err(PathError::Escapes(_)) => {
                    // Some prefix of the segments climbs above the root.
                    let mut depth = 0i32;
                    let mut escaped = false;
                    for s in input.split('/') {
                        match s { "" | "." => {}, ".." => { depth -= 1; escaped |= depth < 0; }, _ => depth += 1 }
                    }
                    proptest::prop_assert!(escaped);
                }
                Err(PathError::TooLong) => proptest::prop_assert!(input.len() > MAX_PATH_BYTES),
            }
        }
    }

    #[test]
    fn parent_name_and_beneath() {
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b/c"), "/a/b");
        assert_eq!(parent("/"), "/");
        assert_eq!(file_name("/a/b.ts"), "b.ts");
        assert!(is_beneath("/a/b", "/a"));
        assert!(!is_beneath("/ab", "/a"));
        assert!(!is_beneath("/a", "/a"));
        assert!(is_beneath("/x", "/"));
    }
}
