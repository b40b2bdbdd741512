//! Emotion trajectories (egui_plot): each emotion's probability over the dialogue, for the
//! whole group or one speaker — the dialogue- and speaker-level descriptors of the paper
//! made visible. Hover a point to see its utterance.

use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints};

use super::colour;
use crate::app::state::AppState;
use crate::emotion::Emotion;

/// Which trajectory is shown.
pub fn show(ui: &mut egui::Ui, state: &mut AppState, who: &mut Option<String>) {
    let Some(result) = &state.doc.result else { return };
    let speakers = result.speakers();
    ui.horizontal(|ui| {
        ui.selectable_value(who, None, "group");
        for s in &speakers {
            ui.selectable_value(who, Some(s.clone()), s);
        }
    });
    let picked: Vec<usize> = result
        .utterances
        .iter()
        .enumerate()
        .filter(|(_, u)| who.as_ref().is_none_or(|s| u.speaker.as_ref() == Some(s)))
        .map(|(i, _)| i)
        .collect();
    let texts: Vec<String> = picked
        .iter()
        .map(|&i| {
            let u = &result.utterances[i];
            format!(
                "#{} {}: {}",
                i + 1,
                u.speaker.as_deref().unwrap_or("?"),
                u.text.chars().take(60).collect::<String>()
            )
        })
        .collect();
    let mids: Vec<f64> = picked
        .iter()
        .map(|&i| (result.utterances[i].start + result.utterances[i].end) / 2.0)
        .collect();
    let formatter = move |pos: &HoverPosition<'_>| -> Option<String> {
        match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                index,
            } => Some(format!(
                "{plot_name} {:.0}%\n{}",
                position.y * 100.0,
                texts.get(*index).cloned().unwrap_or_default()
            )),
            HoverPosition::Elsewhere { .. } => None,
        }
    };
    Plot::new("trajectory")
        .legend(Legend::default())
        .height(ui.available_height().max(140.0))
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("seconds")
        .y_axis_label("probability")
        .label_formatter(formatter)
        .show(ui, |plot| {
            for e in Emotion::ALL {
                let pts: Vec<[f64; 2]> = picked
                    .iter()
                    .zip(&mids)
                    .map(|(&i, &t)| [t, f64::from(result.utterances[i].probs[e.index()])])
                    .collect();
                plot.line(Line::new(e.name(), PlotPoints::from(pts)).color(colour(e)).width(2.0));
            }
        });
}
