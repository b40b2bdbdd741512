//! Snapshot tests of viewer panels drawn from fixed plain data (a stored result, not a live
//! model run, so the pictures are stable), and the overlay images.
//!
//! Snapshots render through wgpu; here that is Mesa's lavapipe (software Vulkan), which the
//! bootstrap installs. Where no adapter exists at all, the snapshot comparison is skipped
//! with a message instead of failing: the panels are still drawn and their behaviour checked.
//! `UPDATE_SNAPSHOTS=1 cargo test --test it viewer_snapshots` rewrites the PNGs in
//! tests/snapshots/.

use amuse::analysis::explain_audio::{SegmentExplanation, SegmentWeight};
use amuse::analysis::explain_face::{FaceExplanation, RegionWeight};
use amuse::analysis::explain_words::WordExplanation;
use amuse::analysis::fit::Fit;
use amuse::analysis::result::{DialogueResult, UtteranceResult};
use amuse::app::overlays;
use amuse::app::panels;
use amuse::app::panels::segments;
use amuse::app::pending::Pending;
use amuse::app::state::AppState;
use amuse::app::worker::Worker;
use amuse::emotion::Emotion;
use egui_kittest::{Harness, SnapshotError, SnapshotOptions};

/// Probabilities peaked on `e`.
fn peaked(e: Emotion, p: f32) -> [f32; 7] {
    let mut probs = [(1.0 - p) / 6.0; 7];
    probs[e.index()] = p;
    probs
}

fn utterance(start: f64, end: f64, speaker: &str, text: &str, predicted: Emotion, label: Emotion) -> UtteranceResult {
    UtteranceResult {
        start,
        end,
        speaker: Some(speaker.into()),
        text: text.into(),
        label: Some(label),
        probs: peaked(predicted, 0.7),
        modality_probs: [Some(peaked(predicted, 0.6)), Some(peaked(Emotion::Neutral, 0.5)), None],
        keyframe_times: Vec::new(),
        keyframes: Vec::new(),
        audio_seconds: end - start,
        face_expression: None,
        voice: None,
    }
}

/// A stored four-line dialogue with a word explanation of line 2.
fn state() -> AppState {
    let mut s = AppState::new(Worker::idle());
    s.doc.result = Some(DialogueResult {
        utterances: vec![
            utterance(0.0, 2.5, "Eileen", "We won the grant!", Emotion::Joy, Emotion::Joy),
            utterance(
                2.8,
                5.0,
                "Cam",
                "Wait, all of it?",
                Emotion::Surprise,
                Emotion::Surprise,
            ),
            utterance(
                5.2,
                8.0,
                "Eileen",
                "All of it. I can't believe it.",
                Emotion::Joy,
                Emotion::Surprise,
            ),
            utterance(
                8.4,
                11.0,
                "Cam",
                "Then who told the board?",
                Emotion::Fear,
                Emotion::Anger,
            ),
        ],
        notes: Vec::new(),
        transcribed: false,
        checkpoint: "fixed data".into(),
        reads_faces: false,
    });
    s.doc.explanations.insert(
        2,
        Pending::Ready(WordExplanation {
            utterance: 2,
            pieces: [
                "All", " ", "of", " ", "it.", " ", "I", " ", "can't", " ", "believe", " ", "it.",
            ]
            .iter()
            .zip([0.12, 0.0, 0.01, 0.0, 0.03, 0.0, 0.02, 0.0, -0.09, 0.0, 0.2, 0.0, 0.03])
            .map(|(p, w)| (p.to_string(), (*p != " ").then_some(w)))
            .collect(),
            top: vec![("believe".into(), 0.2), ("All".into(), 0.12), ("can't".into(), -0.09)],
            fit: Fit {
                label: Emotion::Joy,
                intercept: 0.3,
                score: 0.81,
                local_pred: 0.64,
                samples: 300,
                evaluated: 212,
                seconds: 1.5,
            },
        }),
    );
    s.doc
        .audio_explanations
        .insert(2, Pending::Ready(Box::new(audio_explanation())));
    s.doc.selected = Some(2);
    s.doc.playhead = 6.0;
    s
}

/// Line 3 (5.2–8.0 s) by 0.5 s audio segments: three support, two detract, one unselected.
fn audio_explanation() -> SegmentExplanation {
    let bounds = [5.2, 5.7, 6.2, 6.7, 7.2, 7.7, 8.0];
    let weights = [Some(0.2), Some(-0.1), None, Some(0.05), Some(-0.3), Some(0.15)];
    SegmentExplanation {
        utterance: 2,
        segments: weights
            .iter()
            .enumerate()
            .map(|(k, &weight)| SegmentWeight {
                start: bounds[k],
                end: bounds[k + 1],
                weight,
            })
            .collect(),
        fit: Fit {
            label: Emotion::Joy,
            intercept: 0.2,
            score: 0.64,
            local_pred: 0.61,
            samples: 100,
            evaluated: 52,
            seconds: 75.0,
        },
    }
}

/// Compare with the committed PNG; without any wgpu adapter, say so and go on.
fn snapshot<S>(h: &mut Harness<'_, S>, name: &str) {
    let options = SnapshotOptions::default().max_failed_pixels(10);
    match h.try_snapshot_options(name, &options) {
        Ok(()) => {}
        Err(SnapshotError::RenderError { err }) => {
            eprintln!("snapshot {name} skipped: no wgpu adapter to render with ({err})")
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn timeline_and_trajectories_render_as_committed() {
    let mut who = None;
    let mut h = Harness::builder().with_size(egui::vec2(900.0, 330.0)).build_ui_state(
        move |ui, s: &mut AppState| {
            panels::timeline::show(ui, s);
            ui.separator();
            panels::trajectory::show(ui, s, &mut who);
        },
        state(),
    );
    h.run();
    snapshot(&mut h, "timeline_trajectories");
    // Drawing does not change what is selected or where the playhead is.
    assert_eq!(h.state().doc.selected, Some(2));
    assert_eq!(h.state().doc.playhead, 6.0);
}

#[test]
fn explanation_panel_renders_as_committed() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(420.0, 620.0))
        .build_ui_state(|ui, s: &mut AppState| panels::explanation::show(ui, s), state());
    h.run();
    snapshot(&mut h, "explanation_panel");
    // The supporting "believe" is drawn twice: in the transcript and in the weight bars.
    use egui_kittest::kittest::Queryable;
    assert_eq!(h.query_all_by_label("believe").count(), 2);
}

#[test]
fn face_regions_are_tinted_by_their_weights() {
    // A 4×2 crop: regions 0 (left half) and 1 (right half), weights +0.5 and -0.25.
    let e = FaceExplanation {
        time: 1.0,
        explains: amuse::analysis::explain_face::Target::Expression,
        label: Emotion::Joy,
        probability: 0.8,
        regions: vec![
            RegionWeight {
                name: "mouth".into(),
                action_units: "AU12".into(),
                weight: 0.5,
            },
            RegionWeight {
                name: "brows".into(),
                action_units: "AU4".into(),
                weight: -0.25,
            },
        ],
        score: 0.9,
        samples: 300,
        evaluated: 64,
        seconds: 0.3,
        crop: [10, 20, 14, 22],
        labels: vec![0, 0, 1, 1, 0, 0, 1, 1],
    };
    let im = overlays::face_regions(&e).expect("labels fit the crop");
    assert_eq!(im.size, [4, 2]);
    let (support, against) = (im.pixels[0], im.pixels[3]);
    assert!(support.g() > support.r(), "supporting region is green: {support:?}");
    assert!(against.r() > against.g(), "detracting region is red: {against:?}");
    // alpha ∝ |weight|: the half-weight region is half as opaque (premultiplied colours).
    assert!((f32::from(against.a()) / f32::from(support.a()) - 0.5).abs() < 0.02);
    // A label map that does not fit the crop is refused, not drawn wrongly.
    let broken = FaceExplanation {
        labels: vec![0; 5],
        ..e
    };
    assert!(overlays::face_regions(&broken).is_none());
}

#[test]
fn superpixel_outlines_follow_label_changes() {
    // Two superpixels: columns 0-1 and 2-3 of a 4×3 map.
    let labels = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1];
    let outline = overlays::superpixels(&labels, 4, 3, None);
    let edge: Vec<bool> = outline.pixels.iter().map(|c| c.a() > 0).collect();
    assert_eq!(
        edge,
        [false, true, false, false, false, true, false, false, false, true, false, false]
    );
    // With weights, the inside is tinted: green for the supporting superpixel.
    let tinted = overlays::superpixels(&labels, 4, 3, Some(&[0.4, -0.1]));
    assert!(tinted.pixels[0].g() > tinted.pixels[0].r());
    assert!(tinted.pixels[3].r() > tinted.pixels[3].g());
}

#[test]
fn audio_segments_are_a_strip_over_the_utterance_coloured_by_weight() {
    let e = audio_explanation();
    let rect = egui::Rect::from_min_size(egui::pos2(10.0, 0.0), egui::vec2(280.0, 18.0));
    let pieces = segments::strip(&e, (5.2, 8.0), rect);
    assert_eq!(pieces.len(), 6, "one piece per segment");
    // The strip spans the utterance: 0.5 s is 50 px of 2.8 s over 280 px, the last 0.3 s 30 px.
    assert!((pieces[0].rect.left() - 10.0).abs() < 1e-3);
    assert!((pieces[5].rect.right() - 290.0).abs() < 1e-3);
    assert!((pieces[0].rect.width() - 50.0).abs() < 1e-3);
    assert!((pieces[5].rect.width() - 30.0).abs() < 1e-3);
    for (p, s) in pieces.iter().zip(&e.segments) {
        let c = p.colour;
        match s.weight {
            Some(w) if w > 0.0 => assert!(c.g() > c.r(), "supporting segment is green: {c:?}"),
            Some(_) => assert!(c.r() > c.g(), "detracting segment is red: {c:?}"),
            None => assert!(c.r() == c.g() && c.g() == c.b(), "unselected segment is grey: {c:?}"),
        }
    }
    // Alpha ∝ |weight|: +0.15 is half of the largest, −0.3.
    assert!((f32::from(pieces[5].colour.a()) / f32::from(pieces[4].colour.a()) - 0.5).abs() < 0.02);
    assert!(pieces[4]
        .tooltip
        .starts_with("7.20–7.70 s: weight -0.3000 (against “joy”)"));

    // In the panel: each segment is a widget labelled by its tooltip.
    let mut h = Harness::builder()
        .with_size(egui::vec2(420.0, 700.0))
        .build_ui_state(|ui, s: &mut AppState| panels::explanation::show(ui, s), state());
    h.run();
    use egui_kittest::kittest::Queryable;
    assert_eq!(h.query_all_by_label_contains(" s: ").count(), 6);
    assert_eq!(h.query_all_by_label_contains("supports “joy”").count(), 3);
    assert_eq!(h.query_all_by_label_contains("against “joy”").count(), 2);
    assert_eq!(h.query_all_by_label_contains("not selected").count(), 1);
    assert!(h.query_by_label("explain audio segments").is_none());
}

#[test]
fn audio_segments_are_asked_for_with_a_button_only_where_audio_was_used() {
    let mut s = state();
    s.doc.file = Some(std::path::PathBuf::from("/nonexistent/episode.mp4"));
    s.doc.selected = Some(1);
    let mut h = Harness::builder()
        .with_size(egui::vec2(420.0, 700.0))
        .build_ui_state(|ui, s: &mut AppState| panels::explanation::show(ui, s), s);
    h.run();
    use egui_kittest::kittest::Queryable;
    h.get_by_label("explain audio segments").click();
    h.run_steps(2); // the pending strip shows a spinner, which keeps repainting
    assert!(matches!(
        h.state().doc.audio_explanations.get(&1),
        Some(Pending::Running)
    ));
    assert!(h.query_by_label_contains("explaining the audio segments").is_some());
    // A failure is shown as a note, not a strip.
    h.state_mut()
        .doc
        .audio_explanations
        .insert(1, Pending::Failed("the checkpoint does not use audio".to_string()));
    h.run();
    assert!(h.query_by_label_contains("audio segments: the checkpoint").is_some());
    // An utterance the audio head did not see (text-only checkpoint) offers no button.
    h.state_mut().doc.selected = Some(3);
    h.state_mut().doc.result.as_mut().unwrap().utterances[3].modality_probs[1] = None;
    h.run();
    assert!(h.query_by_label("explain audio segments").is_none());
}
