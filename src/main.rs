//! One binary, two programs: the web app when built for wasm32 by trunk, the command-line
//! tool (`replscope sim | server | advise | compare`) when built natively.

#[cfg(target_arch = "wasm32")]
fn main() {
    replscope::web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(replscope::cli::main());
}
