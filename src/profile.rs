//! Where the seconds go: named timers the pipeline adds to (Whisper, aisfx, MPNet, voice,
//! MTCNN, expression CNN, scene CNN, decoding), read by `amuse bench pipeline` so that the
//! next person sees which sub-stage to work on. Always on: a clock and a lock per call,
//! microseconds against encoder calls of milliseconds.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

static TIMES: Mutex<BTreeMap<&'static str, (f64, usize)>> = Mutex::new(BTreeMap::new());

/// Run `f`, adding its wall time to the timer `name`.
pub fn time<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let seconds = started.elapsed().as_secs_f64();
    let mut times = TIMES.lock().unwrap_or_else(|e| e.into_inner());
    let e = times.entry(name).or_insert((0.0, 0));
    e.0 += seconds;
    e.1 += 1;
    out
}

/// The timers since the last call: `name → (seconds, calls)`; they restart from zero.
pub fn take() -> BTreeMap<&'static str, (f64, usize)> {
    std::mem::take(&mut *TIMES.lock().unwrap_or_else(|e| e.into_inner()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn timers_add_up_and_restart() {
        let _ = super::take();
        let x = super::time("test-a", || 2 + 2);
        super::time("test-a", || std::thread::sleep(std::time::Duration::from_millis(5)));
        assert_eq!(x, 4);
        let t = super::take();
        let (s, n) = t["test-a"];
        assert_eq!(n, 2);
        assert!(s >= 0.005, "{s}");
        assert!(!super::take().contains_key("test-a"));
    }
}
