//! Build steps:
//! - compiles the protos under `proto/` (the binary transports' contract)
//!   in pure Rust with protox, then generates the message types and service
//!   traits with connectrpc-build, so a build needs no protoc;
//! - records the git commit for `GET /version`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    compile_protos();
    record_git_commit();
    println!("cargo:rerun-if-changed=build.rs");
}

fn compile_protos() {
    let root = Path::new("proto");
    println!("cargo:rerun-if-changed=proto");
    let mut files = Vec::new();
    collect_protos(root, &mut files);
    files.sort();
    let relative: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(root)
                .expect("under proto/")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let mut compiler = protox::Compiler::new([root]).expect("proto include path");
    compiler.include_imports(true).include_source_info(false);
    compiler
        .open_files(&relative)
        .unwrap_or_else(|e| panic!("proto files do not compile: {e}"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let set_path = out_dir.join("sessiond.fds.bin");
    std::fs::write(&set_path, compiler.encode_file_descriptor_set()).expect("write descriptor set");
    connectrpc_build::Config::new()
        .descriptor_set(&set_path)
        .files(&relative)
        .include_file("_connectrpc.rs")
        .emit_descriptor_set("reflection.fds.bin")
        .compile()
        .unwrap_or_else(|e| panic!("connectrpc code generation failed: {e:#}"));
}

fn collect_protos(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_protos(&path, into);
        } else if path.extension().is_some_and(|e| e == "proto") {
            into.push(path);
        }
    }
}

fn record_git_commit() {
    // A build outside a git checkout (a crate tarball, a copied tree)
    // reports "unknown".
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SESSIOND_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves, so the reported commit stays true.
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
