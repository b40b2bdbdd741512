//! Cancellation per job of the worker.
//!
//! The worker runs one command at a time, so commands queue: a slow audio explanation may wait
//! behind a word explanation, and a newly opened video's analysis behind both. A "cancel"
//! click must therefore stop the job it was clicked for — not whatever happens to be running —
//! and a queued job must still be cancelled when its turn comes. So each job gets its own
//! token when it is *sent*, and the UI cancels jobs by what they are, never "the current one".

use std::collections::HashMap;
use std::sync::Mutex;

use crate::progress::CancelToken;

/// What a cancellable job of the worker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// The analysis of the open video.
    Analysis,
    /// The word explanation of an utterance (one runs at a time).
    Words,
    /// The audio-segment explanation of this utterance.
    Audio(usize),
    /// The back-frame explanation of the selected utterance (a newer selection supersedes it).
    Back,
    /// The explanation the worker computes ahead of the user ([`super::background`]):
    /// cancelled whenever the UI sends a command.
    Background,
}

/// The tokens of the jobs sent and not yet superseded.
#[derive(Default)]
pub struct Jobs(Mutex<HashMap<Job, CancelToken>>);

impl Jobs {
    /// A fresh token for a job about to be sent. It replaces (without cancelling) the token of
    /// an earlier job of the same kind, which has finished or is cancelled by then.
    pub fn start(&self, job: Job) -> CancelToken {
        let token = CancelToken::default();
        self.lock().insert(job, token.clone());
        token
    }

    /// Cancel this job, running or queued; nothing when there is none.
    pub fn cancel(&self, job: Job) {
        if let Some(t) = self.lock().get(&job) {
            t.cancel();
        }
    }

    /// Cancel every job sent so far (a new video is opened, or the viewer closes).
    pub fn cancel_all(&self) {
        for t in self.lock().values() {
            t.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Job, CancelToken>> {
        // A poisoned map still holds valid tokens: cancelling must work after a panic too.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_one_job_leaves_the_others_running() {
        let jobs = Jobs::default();
        let words = jobs.start(Job::Words);
        let audio_2 = jobs.start(Job::Audio(2));
        let audio_5 = jobs.start(Job::Audio(5));
        jobs.cancel(Job::Audio(2));
        assert!(audio_2.is_cancelled());
        assert!(!words.is_cancelled() && !audio_5.is_cancelled());
        jobs.cancel(Job::Analysis); // none sent: nothing happens
        assert!(!words.is_cancelled());
    }

    #[test]
    fn a_queued_job_stays_cancelled_and_a_new_one_starts_fresh() {
        let jobs = Jobs::default();
        let queued = jobs.start(Job::Audio(1));
        jobs.cancel(Job::Audio(1));
        // Another job starting does not clear it (the old shared token was reset here).
        let _analysis = jobs.start(Job::Analysis);
        assert!(queued.is_cancelled());
        let again = jobs.start(Job::Audio(1));
        assert!(!again.is_cancelled());
    }

    #[test]
    fn opening_a_video_cancels_everything_sent_before() {
        let jobs = Jobs::default();
        let tokens = [
            jobs.start(Job::Analysis),
            jobs.start(Job::Words),
            jobs.start(Job::Audio(0)),
        ];
        jobs.cancel_all();
        assert!(tokens.iter().all(CancelToken::is_cancelled));
        assert!(!jobs.start(Job::Analysis).is_cancelled());
    }
}
