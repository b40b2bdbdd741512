//! The annotator's keyboard flow in the viewer, driven by egui_kittest on a copy of the demo
//! dialogue: 1–7 set the correction, U marks it unsure, Ctrl+Z / Ctrl+Shift+Z undo and redo,
//! 0 clears, N jumps to the next disagreement, the note field saves when left; every edit is
//! on disk at once (the sidecar beside the video) and is there again when the file is reopened.

use crate::common;

use std::time::{Duration, Instant};

use amuse::app::ui::ViewerApp;
use amuse::app::Options;
use amuse::emotion::Emotion;
use amuse_formats::annotations::{parse, sidecar};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn harness(file: std::path::PathBuf) -> Harness<'static, ViewerApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| {
            ViewerApp::new(
                cc.egui_ctx.clone(),
                Options {
                    file: Some(file),
                    threads: 1,
                    force_cpu: true,
                    utterance: None,
                    labels: None,
                },
            )
        })
}

fn wait_for_result(h: &mut Harness<'static, ViewerApp>) {
    let start = Instant::now();
    while h.state().state.doc.result.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "timed out waiting for the analysis"
        );
        assert!(
            h.state().state.doc.running,
            "analysis failed: {:?}",
            h.state().state.messages
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
}

/// The correction and unsure flag of utterance 0 as saved on disk.
fn on_disk(video: &std::path::Path) -> (Option<String>, bool) {
    let a = parse(&std::fs::read(sidecar::path_for(video)).unwrap()).unwrap();
    a.entries
        .iter()
        .find(|e| e.key.index == 0)
        .map_or((None, false), |e| (e.fields.correction.clone(), e.fields.unsure))
}

#[test]
fn keyboard_annotation_autosaves_undoes_and_survives_reopening() {
    common::init();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("demo.mp4");
    std::fs::copy(common::demo(), &video).unwrap();
    std::fs::copy(common::demo().with_extension("csv"), dir.path().join("demo.csv")).unwrap();
    let mut h = harness(video.clone());
    wait_for_result(&mut h);
    assert_eq!(h.state().state.doc.selected, Some(0));

    // 3 = fear (Emotion::ALL order), saved at once.
    h.key_press(Key::Num3);
    h.run_steps(2);
    assert_eq!(on_disk(&video), (Some("fear".into()), false));
    h.get_by_label("corrections saved");
    h.key_press(Key::U);
    h.run_steps(2);
    assert_eq!(on_disk(&video), (Some("fear".into()), true));
    h.get_by_label("fear?"); // the table's correction column

    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(on_disk(&video), (Some("fear".into()), false), "undo the unsure flag");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(on_disk(&video), (Some("fear".into()), true), "redo it");
    h.key_press(Key::Num0);
    h.run_steps(2);
    assert_eq!(on_disk(&video), (None, true), "0 clears the label, not the flag");
    h.key_press(Key::Num7);
    h.run_steps(2);
    assert_eq!(on_disk(&video).0.as_deref(), Some("anger"));

    // N: the next utterance whose prediction differs from its truth (corrections first).
    let next = {
        let s = &h.state().state;
        s.doc
            .annotator
            .next_disagreement(s.doc.result.as_ref().unwrap(), Some(0))
            .expect("the demo has disagreements")
    };
    h.key_press(Key::N);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.selected, Some(next));
    let s = &h.state().state;
    let r = s.doc.result.as_ref().unwrap();
    assert_ne!(s.doc.annotator.truth(r, next), Some(r.utterances[next].predicted()));
    assert!(next > 0);

    // A note typed into the explanation panel is saved when the field is left.
    let field = h.get_by_role(egui::accesskit::Role::MultilineTextInput);
    field.click();
    h.run_steps(2);
    h.get_by_role(egui::accesskit::Role::MultilineTextInput)
        .type_text("sarcastic?");
    h.run_steps(2);
    h.key_press(Key::Escape);
    h.run_steps(3);
    let a = parse(&std::fs::read(sidecar::path_for(&video)).unwrap()).unwrap();
    assert!(
        a.entries
            .iter()
            .any(|e| e.key.index == next && e.fields.note == "sarcastic?"),
        "{:?}",
        a.entries
    );

    // Reopening the video brings the corrections back.
    h.state_mut().state.open(video.clone());
    wait_for_result(&mut h);
    let s = &h.state().state;
    let f = s.doc.annotator.fields(s.doc.result.as_ref().unwrap(), 0);
    assert_eq!((f.emotion(), f.unsure), (Some(Emotion::Anger), true));
}
