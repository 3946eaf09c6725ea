#!/usr/bin/env bash
# Compares the request guard's validator (the jsonschema crate) with the
# hand-written subset validator it replaced (src/api/schema.rs at 5b7caf9),
# on the same bodies and schemas, in one run. Needs the git history.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p src
git show 5b7caf9:src/api/schema.rs \
  | sed 's/super::wire::Base64Bytes::decode(text).is_none()/base64::Engine::decode(\&base64::engine::general_purpose::STANDARD, text).is_err()/' \
  | sed '/^#\[cfg(test)\]/,$d' > src/old.rs
cargo run --release --quiet
