//! Make the `amuse` binaries and tests find LibTorch at run time without LD_LIBRARY_PATH.
//!
//! torch-sys links against the shared libraries of the PyPI torch wheel, but its link
//! arguments do not reach our own binaries, so the loader would not find `libtorch_cpu.so`.
//! torch-sys exports its library folder to dependents as `DEP_TCH_LIBTORCH_LIB`; we bake it
//! in as an rpath and also hand it to the code (`AMUSE_LIBTORCH_LIB`) so that the CUDA
//! library can be `dlopen`ed by full path at start-up (see `src/device.rs`).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    match std::env::var("DEP_TCH_LIBTORCH_LIB") {
        Ok(lib) => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
            println!("cargo:rustc-env=AMUSE_LIBTORCH_LIB={lib}");
        }
        Err(_) => println!("cargo:rustc-env=AMUSE_LIBTORCH_LIB="),
    }
}
