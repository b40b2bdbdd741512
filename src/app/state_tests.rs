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

/// A viewer that opened `first` and then `second` (two files in a temporary folder).
fn reopened() -> (
    tempfile::TempDir,
    AppState,
    std::sync::mpsc::Sender<Message>,
    PathBuf,
    PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.mp4"), dir.path().join("second.mp4"));
    for f in [&first, &second] {
        std::fs::write(f, b"not analysed here").unwrap();
    }
    let (worker, reports) = Worker::loopback();
    let mut state = AppState::new(worker);
    state.open(first.clone());
    state.open(second.clone());
    (dir, state, reports, first, second)
}

#[test]
fn answers_about_a_closed_video_are_dropped() {
    let (_dir, mut state, reports, first, second) = reopened();
    state.explaining = Some(0);
    for m in [
        Message::Cancelled { video: first.clone() },
        Message::Explained {
            video: first.clone(),
            explanation: word_explanation(0),
        },
        Message::ExplainFailed {
            video: first.clone(),
            error: "boom".into(),
        },
        Message::AudioExplained {
            video: first.clone(),
            utterance: 0,
            result: Err("no audio".into()),
        },
        Message::FaceFailed {
            video: first,
            utterance: 0,
            error: "no face".into(),
        },
    ] {
        reports.send(m).unwrap();
    }
    state.poll();
    // The second video's analysis still runs, and nothing of the first shows on it.
    assert!(
        state.running,
        "the first video's cancellation stopped the second's analysis"
    );
    assert!(state.messages.is_empty(), "{:?}", state.messages);
    assert!(state.explanations.is_empty() && state.audio_explanations.is_empty() && state.faces.is_empty());
    assert_eq!(state.explaining, Some(0));

    reports
        .send(Message::Explained {
            video: second.clone(),
            explanation: word_explanation(0),
        })
        .unwrap();
    reports.send(Message::Cancelled { video: second }).unwrap();
    state.poll();
    assert!(state.explanations.contains_key(&0) && state.explaining.is_none());
    assert!(!state.running);
    assert_eq!(state.messages, vec![(Level::Info, "analysis cancelled".to_string())]);
}

#[test]
fn a_cancelled_audio_explanation_can_be_asked_for_again() {
    let (_dir, mut state, reports, _, second) = reopened();
    for (utterance, error) in [(1, CANCELLED), (2, "this video has no audio track")] {
        state.audio_explanations.insert(utterance, SegmentState::Pending);
        reports
            .send(Message::AudioExplained {
                video: second.clone(),
                utterance,
                result: Err(error.into()),
            })
            .unwrap();
    }
    state.poll();
    assert!(
        !state.audio_explanations.contains_key(&1),
        "a cancelled one must not stay as a failure"
    );
    assert!(matches!(state.audio_explanations.get(&2), Some(SegmentState::Failed(e)) if e.contains("no audio")));
}
