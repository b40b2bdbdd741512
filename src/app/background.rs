//! Explanations ahead of the user: once a dialogue is analysed, the worker explains the
//! words of every utterance in the background — the selected one first, then its
//! neighbours, then the rest — whenever no command waits, each through the disk cache
//! ([`crate::analysis::explain_cache`]), so that clicking an utterance, or reopening the
//! video, finds its explanation ready. Any command the UI sends cancels the running
//! background explanation (its utterance goes back to the front of the queue): the user never
//! waits behind it for more than one of LIME's cancellation checks.

use std::collections::VecDeque;
use std::path::PathBuf;

use super::messages::Run;

/// The background queue of one analysed video.
#[derive(Debug)]
pub struct Background {
    pub run: Run,
    pub video: PathBuf,
    queue: VecDeque<usize>,
}

/// Utterances `0..n` by distance from `i`: `i`, `i+1`, `i-1`, `i+2`, `i-2`, ….
pub fn order(n: usize, i: usize) -> Vec<usize> {
    let i = i.min(n.saturating_sub(1));
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    out.push(i);
    for d in 1..n {
        if i + d < n {
            out.push(i + d);
        }
        if d <= i {
            out.push(i - d);
        }
    }
    out
}

impl Background {
    pub fn new(run: Run, video: PathBuf, n: usize, selected: Option<usize>) -> Self {
        Self {
            run,
            video,
            queue: order(n, selected.unwrap_or(0)).into(),
        }
    }

    /// The user selected `i`: it and its neighbours go first; what was done stays done.
    pub fn focus(&mut self, i: usize) {
        let pending: Vec<usize> = self.queue.drain(..).collect();
        let n = pending.iter().max().map_or(0, |m| m + 1).max(i + 1);
        self.queue = order(n, i).into_iter().filter(|u| pending.contains(u)).collect();
    }

    pub fn next_utterance(&mut self) -> Option<usize> {
        self.queue.pop_front()
    }

    /// `i` was interrupted: it is the next one again.
    pub fn requeue(&mut self, i: usize) {
        self.queue.push_front(i);
    }

    pub fn is_done(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_then_its_neighbours_then_the_rest() {
        assert_eq!(order(6, 2), [2, 3, 1, 4, 0, 5]);
        assert_eq!(order(3, 0), [0, 1, 2]);
        assert_eq!(order(3, 9), [2, 1, 0], "a selection past the end is the last");
        assert!(order(0, 0).is_empty());
        let mut b = Background::new(Run::default(), PathBuf::from("v.mp4"), 6, None);
        assert_eq!(b.next_utterance(), Some(0));
        assert_eq!(b.next_utterance(), Some(1));
        b.focus(4);
        let rest: Vec<usize> = std::iter::from_fn(|| b.next_utterance()).collect();
        assert_eq!(rest, [4, 5, 3, 2], "done ones are not redone");
        b.requeue(3);
        assert_eq!(b.next_utterance(), Some(3));
        assert!(b.is_done());
    }
}
