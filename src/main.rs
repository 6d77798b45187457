//! One binary, two programs: the web app when built for wasm32 by trunk, the command-line
//! tool (`replscope sim | server | advise | compare`) when built natively.

/// A fast allocator for the native tools, as Redis links jemalloc: the server allocates per
/// request (arguments, replies, stream bytes), and glibc's malloc/free were a fifth of its
/// instructions under pipelined load.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(target_arch = "wasm32")]
fn main() {
    replscope::web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(replscope::cli::main());
}
