//! The git tools through the agent, and interop with the stock `git` client: a session clones
//! over dumb HTTP, and the clone agrees with what the API reported and passes `git fsck`.

use serde_json::json;

use crate::support::{Provider, call, git, setup};

crate::support::on_each_provider!(
    new_sessions_start_committed_and_git_tools_round_trip,
    branches_checkout_round_trip_and_refused_checkout,
    stock_git_clones_the_session_and_agrees_with_the_api,
    commits_use_the_sessions_author_and_info_shows_head
);

async fn new_sessions_start_committed_and_git_tools_round_trip(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;

    let (out, _) = call(&fake, &api, &s, "git_log", json!({})).await;
    assert!(
        out.starts_with("commit ") && out.contains("Author: pi-worker <agent@pi-worker.local>"),
        "{out}"
    );
    assert!(out.ends_with("    Initial commit"), "{out}");
    let (out, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert_eq!(out, "On branch main\n\nnothing to commit, working tree clean");
    let (out, _) = call(&fake, &api, &s, "git_init", json!({})).await;
    assert_eq!(out, "Reinitialized existing git repository (nothing changed)");

    call(
        &fake,
        &api,
        &s,
        "edit",
        json!({ "path": "src/utils.ts", "oldText": "a + b", "newText": "a + b + 0" }),
    )
    .await;
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "NOTES.md", "content": "notes\n" }),
    )
    .await;
    call(&fake, &api, &s, "rm", json!({ "path": "tsconfig.json" })).await;
    let (out, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert_eq!(
        out,
        "On branch main\n\nChanges not staged for commit:\n  modified: src/utils.ts\n  deleted: tsconfig.json\n\nUntracked files:\n  NOTES.md"
    );
    let (out, _) = call(&fake, &api, &s, "git_diff", json!({ "path": "src" })).await;
    assert!(
        out.starts_with(
            "diff --git a/src/utils.ts b/src/utils.ts\n--- a/src/utils.ts\n+++ b/src/utils.ts\n@@ -3,5 +3,5 @@"
        ),
        "{out}"
    );
    assert!(out.contains("\n-  return a + b;\n+  return a + b + 0;\n"), "{out}");

    let (out, err) = call(&fake, &api, &s, "git_add", json!({ "paths": ["."] })).await;
    assert_eq!((out.as_str(), err), ("Staged 3 change(s) from .", false));
    let (out, _) = call(
        &fake,
        &api,
        &s,
        "git_diff",
        json!({ "staged": true, "path": "NOTES.md" }),
    )
    .await;
    assert!(out.starts_with("diff --git a/NOTES.md b/NOTES.md\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES.md\n@@ -0,0 +1,1 @@\n+notes"), "{out}");
    let (out, err) = call(&fake, &api, &s, "git_commit", json!({ "message": "Tidy up" })).await;
    assert!(!err && out.starts_with("[main ") && out.ends_with("] Tidy up"), "{out}");
    let (out, err) = call(&fake, &api, &s, "git_commit", json!({ "message": "Again" })).await;
    assert!(err && out.starts_with("Nothing to commit"), "{out}");
    let (out, _) = call(&fake, &api, &s, "git_show", json!({})).await;
    assert!(
        out.contains("    Tidy up") && out.contains("deleted mode 100644") && out.contains("+++ /dev/null"),
        "{out}"
    );

    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "README.md", "content": "scribble" }),
    )
    .await;
    let (out, err) = call(&fake, &api, &s, "git_restore", json!({ "path": "README.md" })).await;
    assert_eq!((out.as_str(), err), ("Restored README.md", false));
    let (out, _) = call(&fake, &api, &s, "read", json!({ "path": "README.md", "limit": 1 })).await;
    assert!(out.starts_with("# Sample Project"), "{out}");
}

async fn branches_checkout_round_trip_and_refused_checkout(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;
    let (out, _) = call(
        &fake,
        &api,
        &s,
        "git_checkout",
        json!({ "ref": "feature", "create": true }),
    )
    .await;
    assert_eq!(out, "Switched to a new branch 'feature' (0 file(s) updated, 0 removed)");
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "feature.txt", "content": "only on feature\n" }),
    )
    .await;
    call(&fake, &api, &s, "rm", json!({ "path": "src", "recursive": true })).await;
    call(&fake, &api, &s, "git_add", json!({ "paths": ["."] })).await;
    call(&fake, &api, &s, "git_commit", json!({ "message": "Feature work" })).await;
    let (out, _) = call(&fake, &api, &s, "git_branch", json!({})).await;
    assert!(out.starts_with("* feature ") && out.contains("\n  main "), "{out}");

    let (out, err) = call(&fake, &api, &s, "git_checkout", json!({ "ref": "main" })).await;
    assert_eq!(
        (out.as_str(), err),
        ("Switched to branch 'main' (2 file(s) updated, 1 removed)", false)
    );
    let (out, _) = call(&fake, &api, &s, "tree", json!({})).await;
    assert!(out.contains("src/") && !out.contains("feature.txt"), "{out}");

    // Uncommitted work on a file the other branch changes: refused, nothing touched.
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "src/index.ts", "content": "// local work\n" }),
    )
    .await;
    let (out, err) = call(&fake, &api, &s, "git_checkout", json!({ "ref": "feature" })).await;
    assert!(
        err && out.starts_with(
            "Checkout refused: your local changes to these files would be overwritten or lost:\n  src/index.ts"
        ),
        "{out}"
    );
    let (out, _) = call(&fake, &api, &s, "read", json!({ "path": "src/index.ts" })).await;
    assert_eq!(out, "// local work\n");
    let (out, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert!(out.starts_with("On branch main"), "{out}");

    let (out, err) = call(&fake, &api, &s, "git_branch", json!({ "name": "main" })).await;
    assert!(err && out.contains("already exists"), "{out}");
    let (out, err) = call(&fake, &api, &s, "git_checkout", json!({ "ref": "nope" })).await;
    assert_eq!((out.as_str(), err), ("Unknown revision or branch: nope", true));
}

async fn stock_git_clones_the_session_and_agrees_with_the_api(p: Provider) {
    let (fake, server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "docs/guide.md", "content": "# Guide\n\nhello\n" }),
    )
    .await;
    call(&fake, &api, &s, "git_add", json!({ "paths": ["docs"] })).await;
    call(
        &fake,
        &api,
        &s,
        "git_commit",
        json!({ "message": "Add the guide\n\nWith a body." }),
    )
    .await;
    call(
        &fake,
        &api,
        &s,
        "git_checkout",
        json!({ "ref": "topic", "create": true }),
    )
    .await;
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "topic.txt", "content": "topic\n" }),
    )
    .await;
    call(&fake, &api, &s, "git_add", json!({ "paths": ["."] })).await;
    call(&fake, &api, &s, "git_commit", json!({ "message": "Topic" })).await;
    let (log, _) = call(&fake, &api, &s, "git_log", json!({})).await;
    let api_ids: Vec<&str> = log.lines().filter_map(|l| l.strip_prefix("commit ")).collect();
    assert_eq!(api_ids.len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/session/{s}/git", server.url);
    git(dir.path(), &["clone", "--quiet", &url, "clone"]);
    let clone = dir.path().join("clone");
    // HEAD is on topic in the session, so the clone checks out topic.
    assert_eq!(git(&clone, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(), "topic");
    let git_log = git(&clone, &["log", "--format=%H %s"]);
    let git_ids: Vec<&str> = git_log.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(git_ids, api_ids);
    assert!(
        git_log
            .lines()
            .map(|l| &l[41..])
            .eq(["Topic", "Add the guide", "Initial commit"]),
        "{git_log}"
    );
    let tree = git(&clone, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert_eq!(
        tree,
        "README.md\ndocs/guide.md\npackage.json\nsrc/index.ts\nsrc/utils.ts\ntopic.txt\ntsconfig.json\n"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("docs/guide.md")).unwrap(),
        "# Guide\n\nhello\n"
    );
    assert_eq!(
        git(&clone, &["log", "-1", "--format=%B", "HEAD~1"]),
        "Add the guide\n\nWith a body.\n\n"
    );
    assert_eq!(
        git(&clone, &["branch", "-r"]).lines().count(),
        3,
        "origin/HEAD, origin/main, origin/topic"
    );
    git(&clone, &["fsck", "--full", "--strict"]);
    // Blob ids agree with the ids the session recorded at write time.
    assert_eq!(
        git(&clone, &["rev-parse", "HEAD:topic.txt"]).trim(),
        git(&clone, &["hash-object", "topic.txt"]).trim()
    );

    // The archive of a ref, and of the working tree.
    let archive = reqwest::get(format!("{}/session/{s}/archive.tar?ref=main", server.url))
        .await
        .unwrap();
    assert_eq!(archive.status(), 200);
    let bytes = archive.bytes().await.unwrap();
    let mut names: Vec<String> = tar::Archive::new(bytes.as_ref())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.md",
            "docs/guide.md",
            "package.json",
            "src/index.ts",
            "src/utils.ts",
            "tsconfig.json"
        ]
    );
    let (status, _) = api.get(&format!("/session/{s}/archive.tar?ref=nope")).await;
    assert_eq!(status, 404);
    let (status, _) = api.get(&format!("/session/{s}/git/objects/zz/nothing")).await;
    assert_eq!(status, 404);
}

async fn commits_use_the_sessions_author_and_info_shows_head(p: Provider) {
    let (fake, server, api) = setup(p, vec![]).await;
    let (status, body) = api
        .post(
            "/session/new",
            &json!({ "gitAuthor": { "name": "Ada Lovelace", "email": "ada@example.com" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let s = body["sessionId"].as_str().unwrap().to_string();
    call(&fake, &api, &s, "write", json!({ "path": "x.txt", "content": "x" })).await;
    call(&fake, &api, &s, "git_add", json!({ "paths": ["x.txt"] })).await;
    call(&fake, &api, &s, "git_commit", json!({ "message": "By Ada" })).await;
    let info = api.info(&s).await;
    assert_eq!(info["branch"], "main");
    assert_eq!(
        info["gitAuthor"],
        json!({ "name": "Ada Lovelace", "email": "ada@example.com" })
    );

    let dir = tempfile::tempdir().unwrap();
    git(
        dir.path(),
        &["clone", "--quiet", &format!("{}/session/{s}/git", server.url), "c"],
    );
    let clone = dir.path().join("c");
    assert_eq!(
        git(&clone, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]).trim(),
        "Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>"
    );
    assert_eq!(
        git(&clone, &["rev-parse", "HEAD"]).trim(),
        info["head"].as_str().unwrap()
    );

    let (status, body) = api
        .post(
            "/session/new",
            &json!({ "gitAuthor": { "name": "Eve <evil>", "email": "e@x" } }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("invalid gitAuthor.name"),
        "{body}"
    );
}
