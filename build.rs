//! Records the git commit the binary is built from, for the provenance in every manifest
//! (asking git at run time would report whatever the checkout holds then, not what was built).

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    // A tree with uncommitted changes to tracked files is not the commit: say so.
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    if let Some(c) = commit {
        let suffix = if dirty { "-dirty" } else { "" };
        println!("cargo:rustc-env=NEUROPOP_GIT_COMMIT={c}{suffix}");
    }
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-changed=.git/index");
    // Re-checked whenever the sources change, so the dirty mark follows the tree.
    for path in [
        "src",
        "benches",
        "tests",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
