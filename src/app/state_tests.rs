//! How the viewer applies what its worker reports when the user moves on: commands queue on
//! the worker, so answers about a video closed since arrive after a new one is opened.

use super::*;
use crate::analysis::explain::WordExplanation;
use crate::analysis::fit::Fit;
use crate::app::segments::SegmentState;

fn word_explanation(utterance: usize) -> Box<WordExplanation> {
    Box::new(WordExplanation {
        utterance,
        pieces: vec![("Hi".into(), Some(0.1))],
        top: vec![("Hi".into(), 0.1)],
        fit: Fit {
            label: Emotion::Joy,
            intercept: 0.2,
            score: 0.9,
            local_pred: 0.3,
            samples: 10,
            evaluated: 2,
            seconds: 0.1,
        },
    })
}

/// A viewer that opened `first`, then `second`, then `first` again (files in a temporary
/// folder), and the numbers of those three runs.
fn reopened() -> (tempfile::TempDir, AppState, std::sync::mpsc::Sender<Report>, [Run; 3]) {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.mp4"), dir.path().join("second.mp4"));
    for f in [&first, &second] {
        std::fs::write(f, b"not analysed here").unwrap();
    }
    let (worker, reports) = Worker::loopback();
    let mut state = AppState::new(worker);
    let mut runs = [0; 3];
    for (k, f) in [&first, &second, &first].into_iter().enumerate() {
        state.open(f.clone());
        runs[k] = state.run;
    }
    (dir, state, reports, runs)
}

fn report(reports: &std::sync::mpsc::Sender<Report>, run: Run, message: Message) {
    reports
        .send(Report {
            run: Some(run),
            message,
        })
        .unwrap();
}

#[test]
fn reports_of_earlier_runs_are_dropped() {
    let (_dir, mut state, reports, [first, second, now]) = reopened();
    assert!(first != second && second != now && first != now);
    state.explaining = Some(0);
    // The first run is the same file as the current one: its path cannot tell them apart.
    for run in [first, second] {
        for m in [
            Message::Cancelled,
            Message::Explained(word_explanation(0)),
            Message::ExplainFailed("boom".into()),
            Message::AudioExplained {
                utterance: 0,
                result: Err("no audio".into()),
            },
            Message::FaceFailed {
                utterance: 0,
                error: "no face".into(),
            },
        ] {
            report(&reports, run, m);
        }
    }
    state.poll();
    // The current analysis still runs, and nothing of the earlier runs shows on it.
    assert!(
        state.running,
        "an earlier run's cancellation stopped the current analysis"
    );
    assert!(state.messages.is_empty(), "{:?}", state.messages);
    assert!(state.explanations.is_empty() && state.audio_explanations.is_empty() && state.faces.is_empty());
    assert_eq!(state.explaining, Some(0));

    report(&reports, now, Message::Explained(word_explanation(0)));
    report(&reports, now, Message::Cancelled);
    state.poll();
    assert!(state.explanations.contains_key(&0) && state.explaining.is_none());
    assert!(!state.running);
    assert_eq!(state.messages, vec![(Level::Info, "analysis cancelled".to_string())]);
}

#[test]
fn a_cancelled_audio_explanation_can_be_asked_for_again() {
    let (_dir, mut state, reports, [.., now]) = reopened();
    for (utterance, error) in [(1, CANCELLED), (2, "this video has no audio track")] {
        state.audio_explanations.insert(utterance, SegmentState::Pending);
        let result = Err(error.into());
        report(&reports, now, Message::AudioExplained { utterance, result });
    }
    state.poll();
    assert!(
        !state.audio_explanations.contains_key(&1),
        "a cancelled one must not stay as a failure"
    );
    assert!(matches!(state.audio_explanations.get(&2), Some(SegmentState::Failed(e)) if e.contains("no audio")));
}

#[test]
fn opening_a_video_clears_the_previous_videos_filters() {
    let (dir, mut state, _reports, _) = reopened();
    state.filter = Filter {
        speaker: Some("Cam".into()),
        emotion: Some(Emotion::Joy),
        disagreements_only: true,
        voice_of: Some(3),
    };
    state.trajectory_of = Some("Cam".into());
    state.open(dir.path().join("second.mp4"));
    assert_eq!(
        state.filter,
        Filter::default(),
        "no filter of the last video hides rows of this one"
    );
    assert_eq!(state.trajectory_of, None);
}
