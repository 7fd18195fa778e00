#!/usr/bin/env bash
# Every test of kakehashi, on a fresh machine. This is the README's test command and
# what CI runs. It installs the system packages the tests need when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

./scripts/packages.sh

cargo test --workspace --locked

# The server's tests once more with every seeded store on PostgreSQL (Debian's postgresql,
# started by the tests on loopback): one schema, its SQL written once for both backends,
# tested alike (ADR 0020). The same build: no crate compiles again.
TEST_STORE=postgres cargo test --workspace --locked --test server

# Every binary and example once, with the features the tests were built with: what
# follows runs them from target/ instead of `cargo run -p …`, whose per-package feature
# resolution would compile much of the tree again.
cargo build --locked -q --workspace --bins --examples
examples=./target/debug/examples

# The web clients: type-checked (tsc --checkJs), then driven in real headless Chromium
# against the binary just built. playwright-core and typescript come from the npm
# registry at the versions in tests/browser/package-lock.json; never a downloaded browser.
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
(cd tests/browser && npx tsc -p tsconfig.json && node --test --test-concurrency=1 --test-reporter=spec)

# The HTTP API against its OpenAPI document, with schemathesis (from PyPI).
./scripts/api-fuzz.sh

# The benchmark and the simulation are programs; a seconds-long run of each keeps them
# working. Their full runs are the commands in docs/benchmarks.md.
$examples/bench --interpreters 2000 --queued 3000 --cycles 5000 --no-scaling --json
$examples/simulate --hours 1 >/dev/null
$examples/forward_bench 2 1
$examples/mix_bench 5 50
$examples/reports_bench 3000 1
echo "smoke runs of the bench, simulate, forward_bench, mix_bench and reports_bench examples: ok"

# The load tool's scenarios, seconds each, against the debug binary (their full runs are
# the commands in docs/benchmarks.md).
load=./target/debug/kakehashi-load
$load storm --desks 12 --interpreters 4 --languages 3 --seconds 5 --rate 3 --talk 1 --think 0.2
$load soak --desks 12 --interpreters 4 --languages 3 --seconds 8 --rate 3 --talk 1 --think 0.2
$load media --sessions 1 --seconds 2 --warmup 1 --janus
$load idle --connections 200 --hold 1
$load endure --calls 3 --seconds 12 --warmup 4 --talk 5 --sample 2
$load phone-rate --rate 20 --calls 40 --hold 300
$load phone-mix --calls 2 --seconds 3 --warmup 1 --janus
echo "smoke runs of the load tool's scenarios: ok"
