//! The viewer driven headless with egui_kittest on the real demo dialogue: the analysis runs
//! on the worker thread while frames keep coming, can be cancelled, and the results can be
//! stepped through and their overlays toggled; the video plays (on the wall clock when there
//! is no sound card), the selection follows the playhead, and seeking selects.

use crate::common;

use std::time::{Duration, Instant};

use amuse::app::ui::ViewerApp;
use amuse::app::Options;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn harness(file: Option<std::path::PathBuf>) -> Harness<'static, ViewerApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| {
            ViewerApp::new(
                cc.egui_ctx.clone(),
                Options {
                    file,
                    threads: 1,
                    force_cpu: true,
                    utterance: None,
                    labels: None,
                },
            )
        })
}

/// Step frames until `done` or the deadline; returns the frames stepped.
fn step_until(h: &mut Harness<'static, ViewerApp>, deadline: Duration, done: impl Fn(&ViewerApp) -> bool) -> u64 {
    let start = Instant::now();
    let mut frames = 0;
    while !done(h.state()) {
        assert!(start.elapsed() < deadline, "timed out waiting for the viewer");
        h.step();
        frames += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    frames
}

#[test]
fn open_cancel_reopen_step_and_toggle() {
    common::init();
    // 1. A cold analysis (empty feature cache) keeps the UI running and can be cancelled.
    let cold = tempfile::tempdir().unwrap();
    // SAFETY: this test binary has a single test; no other thread reads the environment yet.
    unsafe { std::env::set_var("AMUSE_CACHE", cold.path()) };
    let mut h = harness(Some(common::demo()));
    step_until(&mut h, Duration::from_secs(120), |app| {
        app.state.doc.current_stage.is_some()
    });
    let before = h.state().frames_drawn;
    let advanced = step_until(&mut h, Duration::from_secs(60), |app| app.frames_drawn >= before + 10);
    assert!(
        h.state().state.doc.running,
        "the analysis is still running while {advanced} frames were drawn"
    );
    h.get_by_label("Cancel").click();
    step_until(&mut h, Duration::from_secs(60), |app| !app.state.doc.running);
    assert!(h.state().state.doc.result.is_none());
    assert!(h.state().state.messages.iter().any(|(_, m)| m.contains("cancelled")));

    // 2. The full analysis (features cached by earlier runs of the suite when present).
    unsafe { std::env::remove_var("AMUSE_CACHE") };
    h.state_mut().state.open(common::demo());
    step_until(&mut h, Duration::from_secs(600), |app| {
        app.state.doc.result.is_some() || !app.state.doc.running
    });
    let result = h.state().state.doc.result.clone().expect("the demo is analysed");
    assert_eq!(result.utterances.len(), 12);
    assert!(result
        .utterances
        .iter()
        .all(|u| (u.probs.iter().sum::<f32>() - 1.0).abs() < 1e-3));
    assert!(
        result
            .utterances
            .iter()
            .all(|u| u.keyframes.iter().any(|k| !k.faces.is_empty())),
        "every close-up shows a face"
    );
    assert_eq!(h.state().state.doc.selected, Some(0));

    // 3. Keyboard: → selects the next utterance, End the last, Home the first.
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.selected, Some(1));
    h.key_press(egui::Key::End);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.selected, Some(11));
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.selected, Some(0));

    // 4. The keyframes arrive and the face overlay can be switched off.
    step_until(&mut h, Duration::from_secs(60), |app| !app.state.doc.frames.is_empty());
    h.run_steps(2);
    assert!(h.state().state.overlays.faces);
    h.get_by_label("faces").click();
    h.run_steps(2);
    assert!(!h.state().state.overlays.faces);

    // 4b. , and . step through the keyframes (ELAN's frame keys), within bounds. Once the
    // face explanation is in (it moves to the keyframe it explains), Home starts over.
    step_until(&mut h, Duration::from_secs(120), |app| {
        !matches!(app.state.doc.faces.get(&0), Some(amuse::app::pending::Pending::Running))
    });
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    step_until(&mut h, Duration::from_secs(60), |app| !app.state.doc.frames.is_empty());
    h.run_steps(2);
    let n = h.state().state.doc.frames.len();
    assert_eq!(h.state().state.doc.frame_index, 0);
    h.key_press(egui::Key::Period);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.frame_index, 1.min(n - 1));
    h.key_press(egui::Key::Comma);
    h.key_press(egui::Key::Comma);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.frame_index, 0);

    // 4c. Follow this voice (V): the selected utterance's voice; its own utterance stays
    // visible, utterances of a clearly different voice go; V again shows everything.
    h.key_press(egui::Key::V);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.filter.voice_of, Some(0));
    let same = h.state().state.visible();
    assert!(same.contains(&0) && same.len() < 12, "{same:?}");
    let speaker = |i: usize| result.utterances[i].speaker.clone();
    assert!(
        same.iter().all(|&i| speaker(i) != Some("Cam".into())),
        "the male voice is not Eileen's: {same:?}"
    );
    h.key_press(egui::Key::V);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.filter.voice_of, None);
    assert_eq!(h.state().state.visible().len(), 12);

    // 5. Filters: disagreements only shows only utterances whose prediction differs from the truth.
    h.state_mut().state.doc.filter.disagreements_only = true;
    let visible = h.state().state.visible();
    assert!(visible.iter().all(|&i| {
        let u = &result.utterances[i];
        u.label.is_some_and(|l| l != u.predicted())
    }));
    h.state_mut().state.doc.filter.disagreements_only = false;

    // 6. Seeking to an utterance's start (the seek bar) selects it and shows that frame.
    let u5 = result.utterances[5].clone();
    h.state_mut().state.seek(u5.start);
    assert_eq!(h.state().state.doc.selected, Some(5));
    step_until(&mut h, Duration::from_secs(60), |app| {
        app.playback
            .frame
            .as_ref()
            .is_some_and(|(t, _)| (t - u5.start).abs() < 0.1)
    });
    assert!(h.state().state.doc.video_view);

    // 7. Space plays: the playhead advances with the clock, frames follow, Space pauses.
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    assert!(h.state().state.doc.playing);
    let played = Instant::now();
    step_until(&mut h, Duration::from_secs(60), |app| {
        app.state.doc.playhead > u5.start + 0.5
    });
    let (shown, _) = h.state().playback.frame.clone().expect("a frame is shown");
    assert!(
        shown > u5.start + 0.2,
        "the picture follows the playhead: frame at {shown:.2}s"
    );
    let wall = played.elapsed().as_secs_f64();
    let moved = h.state().state.doc.playhead - u5.start;
    assert!(
        moved <= wall + 0.3,
        "the playhead ran ahead of the clock: {moved:.2}s in {wall:.2}s"
    );
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    assert!(!h.state().state.doc.playing);
    let paused = h.state().state.doc.playhead;
    std::thread::sleep(Duration::from_millis(300));
    h.run_steps(2);
    assert!(
        (h.state().state.doc.playhead - paused).abs() < 1e-6,
        "paused means paused"
    );

    // 8. Playing across an utterance's end selects the next one.
    h.state_mut().state.seek(u5.end - 0.3);
    h.key_press(egui::Key::Space);
    step_until(&mut h, Duration::from_secs(60), |app| app.state.doc.selected == Some(6));
    h.key_press(egui::Key::Space);
    h.run_steps(1);

    // 9. Selecting an utterance (table, timeline, keys) seeks the player to its start.
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().state.doc.selected, Some(7));
    assert!((h.state().state.doc.playhead - result.utterances[7].start).abs() < 1e-6);

    // 10. Overlays: the face regions (on by default) and the superpixels switch on and off.
    h.key_press(egui::Key::Period);
    h.run_steps(2);
    assert!(!h.state().state.doc.video_view, "frame keys show the keyframes");
    step_until(&mut h, Duration::from_secs(60), |app| !app.state.doc.frames.is_empty());
    h.run_steps(2);
    h.get_by_label("superpixels").click();
    h.run_steps(2);
    assert!(h.state().state.overlays.superpixels);
    h.get_by_label("face regions").click();
    h.run_steps(2);
    assert!(!h.state().state.overlays.face_regions);
}
