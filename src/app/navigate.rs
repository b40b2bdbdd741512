//! Moving through the dialogue: selecting an utterance (table, timeline, keys) and the
//! playhead. Selection and playhead go together: selecting an utterance seeks the player to
//! its start, and while the video plays the utterance under the playhead is selected.

use super::state::AppState;
use super::worker::Command;

impl AppState {
    /// Select an utterance, fetch its keyframes and explanations, and seek there.
    pub fn select(&mut self, i: usize) {
        let Some(start) = self
            .doc
            .result
            .as_ref()
            .and_then(|r| r.utterances.get(i))
            .map(|u| u.start)
        else {
            return;
        };
        self.show_utterance(i);
        self.doc.playhead = start;
        self.doc.seek_request = Some(start);
        self.doc.video_view = self.doc.playing;
    }

    /// Move the playhead (the seek bar): the utterance under it becomes the selection.
    pub fn seek(&mut self, t: f64) {
        self.doc.playhead = t.max(0.0);
        self.doc.seek_request = Some(self.doc.playhead);
        self.doc.video_view = true;
        self.follow_playhead();
    }

    /// Select the utterance under the playhead, if it is not selected already (between
    /// utterances the selection stays).
    pub fn follow_playhead(&mut self) {
        if let Some(i) = self.utterance_at(self.doc.playhead) {
            if self.doc.selected != Some(i) {
                self.show_utterance(i);
            }
        }
    }

    /// The utterance spoken at `t` seconds (the latest to start, when they overlap).
    pub fn utterance_at(&self, t: f64) -> Option<usize> {
        let r = self.doc.result.as_ref()?;
        r.utterances
            .iter()
            .enumerate()
            .filter(|(_, u)| u.start <= t + 1e-6 && t < u.end)
            .max_by(|a, b| a.1.start.total_cmp(&b.1.start))
            .map(|(i, _)| i)
    }

    /// Whether the loaded checkpoint reads back frames (then selecting an utterance also
    /// explains its background).
    pub fn reads_back_frames(&self) -> bool {
        matches!(&self.models, Some(Ok(c)) if c.visual_streams.iter().any(|s| s == "back"))
    }

    /// Make `i` the selection without moving the playhead: its keyframes, the face and word
    /// explanations are requested.
    fn show_utterance(&mut self, i: usize) {
        let Some(r) = &self.doc.result else { return };
        let Some(u) = r.utterances.get(i) else { return };
        let times = u.keyframe_times.clone();
        self.doc.selected = Some(i);
        self.doc.frame_index = 0;
        self.worker.send(Command::Focus {
            run: self.doc.run,
            utterance: i,
        });
        if let (Some(video), false, false) = (&self.doc.file, times.is_empty(), self.doc.faces.contains_key(&i)) {
            self.doc.faces.insert(i, crate::app::pending::Pending::Running);
            self.worker.send(Command::ExplainFace {
                run: self.doc.run,
                utterance: i,
                video: video.clone(),
                times: times.clone(),
            });
        }
        if let (Some(video), false, false, true) = (
            &self.doc.file,
            times.is_empty(),
            self.doc.backs.contains_key(&i),
            self.reads_back_frames(),
        ) {
            self.doc.backs.insert(i, crate::app::pending::Pending::Running);
            self.worker.send(Command::ExplainBack {
                run: self.doc.run,
                utterance: i,
                video: video.clone(),
            });
        }
        if !self.doc.explanations.contains_key(&i) {
            self.explain_selected(crate::analysis::explain_words::INTERACTIVE_SAMPLES);
        }
        if let (Some(video), false) = (&self.doc.file, times.is_empty()) {
            self.doc.frames_tag = Some(i as u64);
            self.doc.frames.clear();
            self.worker.send(Command::Frames {
                times,
                video: video.clone(),
                max_side: super::playback::PLAY_SIDE,
                tag: i as u64,
            });
        } else {
            self.doc.frames.clear();
        }
    }
    /// Move the selection by `delta` among visible utterances.
    pub fn step(&mut self, delta: i64) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let pos = self.doc.selected.and_then(|s| visible.iter().position(|&v| v == s));
        let next = match pos {
            None => 0,
            Some(p) => (p as i64 + delta).clamp(0, visible.len() as i64 - 1) as usize,
        };
        self.select(visible[next]);
    }

    pub fn select_first(&mut self) {
        if let Some(&i) = self.visible().first() {
            self.select(i);
        }
    }

    pub fn select_last(&mut self) {
        if let Some(&i) = self.visible().last() {
            self.select(i);
        }
    }
}
