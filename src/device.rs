//! Which device the pipeline runs on, and how many CPU threads it uses.
//!
//! The PyPI torch wheel ships CUDA in `libtorch_cuda.so`, but the linker drops it from our
//! binary because no symbol of it is referenced directly (tch-rs issue #980), so
//! `tch::Cuda::is_available()` would say `false` even on a GPU machine. We therefore
//! `dlopen` it ourselves, once, before tch is first touched. On a machine without a GPU
//! the library still loads (or not) and CUDA reports no device: we stay on the CPU.
//!
//! Threads: on small shared machines two intra-op threads can be *slower* than one
//! (measured 8x on the 2-core CI box), so the count is a setting with a conservative
//! default: half the cores, at least one.

use std::sync::OnceLock;

/// The device and thread settings the pipeline was started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `"cuda:0 (NVIDIA …)"` or `"cpu"`.
    pub name: String,
    /// Whether CUDA is used.
    pub cuda: bool,
    /// Intra-op CPU threads given to LibTorch.
    pub threads: usize,
    /// What happened when loading the CUDA library (for `amuse doctor`).
    pub cuda_note: String,
}

static CUDA_NOTE: OnceLock<String> = OnceLock::new();

/// Load `libtorch_cuda.so` with `RTLD_GLOBAL` so LibTorch registers its CUDA backend.
/// Idempotent; returns a human-readable note of what happened.
pub fn load_cuda_library() -> &'static str {
    CUDA_NOTE.get_or_init(|| {
        if std::env::var_os("AMUSE_NO_CUDA").is_some() {
            return "CUDA disabled by AMUSE_NO_CUDA".to_owned();
        }
        let lib_dir = env!("AMUSE_LIBTORCH_LIB");
        let mut candidates = Vec::new();
        if !lib_dir.is_empty() {
            candidates.push(format!("{lib_dir}/libtorch_cuda.so"));
        }
        candidates.push("libtorch_cuda.so".to_owned());
        for path in &candidates {
            let Ok(c_path) = std::ffi::CString::new(path.as_str()) else {
                continue;
            };
            // SAFETY: dlopen with a valid NUL-terminated path; the handle is deliberately
            // leaked so the library stays loaded for the life of the process.
            let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            if !handle.is_null() {
                return format!("loaded {path}");
            }
        }
        "libtorch_cuda.so not loadable (CPU-only LibTorch or missing CUDA runtime)".to_owned()
    })
}

/// Default intra-op thread count: half the cores, at least one.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (cores / 2).max(1)
}

/// `threads`, at least one and at most the machine's cores: more intra-op threads than
/// cores only contend (9999 threads hung for minutes and took 2.2 GB), so they are capped
/// with a warning.
pub fn capped_threads(threads: usize) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if threads > cores {
        eprintln!("warning: {threads} threads asked for, but this machine has {cores} cores: using {cores}");
    }
    threads.clamp(1, cores)
}

/// Thread count from `AMUSE_THREADS` if set and valid, else [`default_threads`].
pub fn threads_from_env() -> usize {
    std::env::var("AMUSE_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(default_threads)
}

/// Initialise LibTorch for this process: CUDA when present (unless `force_cpu`),
/// `threads` intra-op threads. Call once at start-up, before any tensor is made.
pub fn init(threads: usize, force_cpu: bool) -> DeviceInfo {
    let cuda_note = if force_cpu {
        "CPU forced".to_owned()
    } else {
        load_cuda_library().to_owned()
    };
    let threads = capped_threads(threads);
    tch::set_num_threads(threads as i32);
    // LibTorch refuses (aborts) a second call to this one, so it is made once per process.
    static INTEROP: std::sync::Once = std::sync::Once::new();
    INTEROP.call_once(|| {
        tch::set_num_interop_threads(1);
        // TorchScript's profiling executor specialises and keeps a graph per distinct input
        // shape; utterances have many token lengths and face counts, so memory grew with
        // the length of the video (issue 7). The simple executor runs the same graphs.
        if std::env::var_os("AMUSE_JIT_PROFILING").is_none() {
            tch::jit::set_profiling_mode(false);
        }
    });
    let cuda = !force_cpu && tch::Cuda::is_available();
    let name = if cuda {
        format!("cuda:0 ({} device(s))", tch::Cuda::device_count())
    } else {
        format!("cpu ({threads} thread{})", if threads == 1 { "" } else { "s" })
    };
    DeviceInfo {
        name,
        cuda,
        threads,
        cuda_note,
    }
}

impl DeviceInfo {
    /// The tch device to put tensors and modules on.
    pub fn device(&self) -> tch::Device {
        if self.cuda {
            tch::Device::Cuda(0)
        } else {
            tch::Device::Cpu
        }
    }
}
