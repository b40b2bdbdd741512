//! How the viewer applies what its worker reports when the user moves on: commands queue on
//! the worker, so answers about a video closed since arrive after a new one is opened.

use super::*;
use crate::analysis::explain_words::WordExplanation;
use crate::analysis::fit::Fit;
use crate::app::pending::{Failure, Pending};

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
fn reopened() -> (tempfile::TempDir, AppState, std::sync::mpsc::Sender<Envelope>, [Run; 3]) {
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
        runs[k] = state.doc.run;
    }
    (dir, state, reports, runs)
}

fn report(reports: &std::sync::mpsc::Sender<Envelope>, run: Run, message: Message) {
    reports
        .send(Envelope {
            run: Some(run),
            message,
        })
        .unwrap();
}

#[test]
fn reports_of_earlier_runs_are_dropped() {
    let (_dir, mut state, reports, [first, second, now]) = reopened();
    assert!(first != second && second != now && first != now);
    state.doc.explanations.insert(0, Pending::Running);
    // The first run is the same file as the current one: its path cannot tell them apart.
    for run in [first, second] {
        for m in [
            Message::Cancelled,
            Message::Explained(word_explanation(0)),
            Message::ExplainFailed {
                utterance: 0,
                failure: Failure::Error("boom".into()),
            },
            Message::AudioExplained {
                utterance: 0,
                result: Err(Failure::Error("no audio".into())),
            },
            Message::FaceFailed {
                utterance: 0,
                failure: Failure::Error("no face".into()),
            },
        ] {
            report(&reports, run, m);
        }
    }
    state.poll();
    // The current analysis still runs, and nothing of the earlier runs shows on it.
    assert!(
        state.doc.running,
        "an earlier run's cancellation stopped the current analysis"
    );
    assert!(state.messages.is_empty(), "{:?}", state.messages);
    assert!(state.doc.audio_explanations.is_empty() && state.doc.faces.is_empty());
    assert!(
        matches!(state.doc.explanations.get(&0), Some(Pending::Running)),
        "still explaining"
    );

    report(&reports, now, Message::Explained(word_explanation(0)));
    report(&reports, now, Message::Cancelled);
    state.poll();
    assert!(
        matches!(state.doc.explanations.get(&0), Some(Pending::Ready(_))),
        "explained"
    );
    assert!(!state.doc.running);
    assert_eq!(state.messages, vec![(Level::Info, "analysis cancelled".to_string())]);
}

#[test]
fn a_cancelled_audio_explanation_can_be_asked_for_again() {
    let (_dir, mut state, reports, [.., now]) = reopened();
    for (utterance, failure) in [
        (1, Failure::Cancelled),
        (2, Failure::Error("this video has no audio track".into())),
    ] {
        state.doc.audio_explanations.insert(utterance, Pending::Running);
        let result = Err(failure);
        report(&reports, now, Message::AudioExplained { utterance, result });
    }
    state.poll();
    assert!(
        !state.doc.audio_explanations.contains_key(&1),
        "a cancelled one must not stay as a failure"
    );
    assert!(matches!(state.doc.audio_explanations.get(&2), Some(Pending::Failed(e)) if e.contains("no audio")));
}

#[test]
fn opening_a_video_clears_the_previous_videos_filters() {
    let (dir, mut state, _reports, _) = reopened();
    state.doc.filter = Filter {
        speaker: Some("Cam".into()),
        emotion: Some(Emotion::Joy),
        disagreements_only: true,
        voice_of: Some(3),
    };
    state.doc.trajectory_of = Some("Cam".into());
    state.open(dir.path().join("second.mp4"));
    assert_eq!(
        state.doc.filter,
        Filter::default(),
        "no filter of the last video hides rows of this one"
    );
    assert_eq!(state.doc.trajectory_of, None);
}

#[test]
fn the_label_set_chosen_for_new_sidecars_survives_opening_another_video() {
    let (dir, mut state, _reports, _) = reopened();
    let iemocap = amuse_formats::annotations::LabelSet::iemocap();
    state.doc.annotator.labels = iemocap.clone();
    state.open(dir.path().join("second.mp4"));
    assert_eq!(
        state.doc.annotator.labels, iemocap,
        "`--labels iemocap` holds for every video"
    );
}

fn back_explanation() -> Box<crate::analysis::explain_visual::BackExplanation> {
    Box::new(crate::analysis::explain_visual::BackExplanation {
        time: 1.0,
        explains: crate::analysis::explain_face::Target::Fused,
        label: Emotion::Anger,
        probability: 0.8,
        weights: vec![(1, 0.3), (0, -0.1)],
        score: 0.7,
        samples: 300,
        evaluated: 120,
        seconds: 4.0,
        width: 2,
        height: 1,
        labels: vec![0, 1],
    })
}

#[test]
fn the_background_is_explained_only_for_checkpoints_that_read_back_frames() {
    let (_dir, mut state, reports, [first, .., now]) = reopened();
    let utterance = crate::analysis::result::UtteranceResult {
        start: 0.0,
        end: 2.0,
        speaker: None,
        text: "Hi".into(),
        label: None,
        probs: [0.0; 7],
        modality_probs: [None, None, None],
        keyframe_times: vec![1.0],
        keyframes: Vec::new(),
        audio_seconds: 2.0,
        face_expression: None,
        voice: None,
    };
    state.doc.result = Some(DialogueResult {
        utterances: vec![utterance.clone(), utterance],
        ..Default::default()
    });
    let summary = |streams: &[&str]| crate::analysis::result::CheckpointSummary {
        visual_streams: streams.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    // The shipped checkpoint reads faces only: no background explanation is asked for.
    state.models = Some(Ok(summary(&["face"])));
    state.select(0);
    assert!(!state.reads_back_frames() && state.doc.backs.is_empty());
    // One that reads back frames: asked for on selection, and its answer is kept.
    state.models = Some(Ok(summary(&["face", "back"])));
    state.select(1);
    assert!(matches!(state.doc.backs.get(&1), Some(Pending::Running)));
    report(
        &reports,
        first,
        Message::BackExplained {
            utterance: 1,
            result: Err(Failure::Error("an earlier video's".into())),
        },
    );
    state.poll();
    assert!(
        matches!(state.doc.backs.get(&1), Some(Pending::Running)),
        "earlier run dropped"
    );
    let result = Ok(back_explanation());
    report(&reports, now, Message::BackExplained { utterance: 1, result });
    state.poll();
    assert!(matches!(state.doc.backs.get(&1), Some(Pending::Ready(e)) if e.label == Emotion::Anger));
    // A superseded (cancelled) one can be asked for again.
    state.doc.backs.insert(0, Pending::Running);
    let result = Err(Failure::Cancelled);
    report(&reports, now, Message::BackExplained { utterance: 0, result });
    state.poll();
    assert!(!state.doc.backs.contains_key(&0));
    // The tint: the supporting superpixel green, the border between the two outlined.
    let e = back_explanation();
    let tint = crate::app::overlays::back_superpixels(&e).unwrap();
    assert_eq!(tint.size, [2, 1]);
    let (left, right) = (tint.pixels[0], tint.pixels[1]);
    assert_eq!(
        left,
        egui::Color32::from_rgba_unmultiplied(255, 255, 255, 150),
        "edge outlined"
    );
    assert!(
        right.g() > right.r(),
        "superpixel 1 (+0.3) supports: green, got {right:?}"
    );
    let wrong_size = crate::analysis::explain_visual::BackExplanation { labels: vec![0], ..*e };
    assert!(crate::app::overlays::back_superpixels(&wrong_size).is_none());
}
