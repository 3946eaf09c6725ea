//! Message types and service traits generated from `proto/` by `build.rs`.

connectrpc::include_generated!();

/// Every file under `proto/` with its imports, for server reflection.
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/reflection.fds.bin"));
