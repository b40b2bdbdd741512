//! The checkpoint window: what the loaded checkpoint reads, what it was trained on, its dev
//! scores, and how far its confidences can be trusted: the temperatures it applies and a
//! reliability diagram (accuracy against confidence, before and after calibration) per dev
//! set. A point on the diagonal means "p = 0.8 is right 8 times in 10".

use egui_plot::{Corner, Legend, Line, Plot, PlotPoints, Points};

use crate::analysis::result::CheckpointSummary;
use crate::model::calibration::Reliability;

/// Draw the window when `open`.
pub fn window(ctx: &egui::Context, open: &mut bool, summary: &CheckpointSummary) {
    egui::Window::new(format!("checkpoint {}", summary.name))
        .open(open)
        .default_width(580.0)
        .default_height(780.0)
        .vscroll(true)
        .show(ctx, |ui| show(ui, summary));
}

fn show(ui: &mut egui::Ui, s: &CheckpointSummary) {
    ui.label(format!("reads: {}", s.modalities.join(", ")));
    if !s.visual_streams.is_empty() {
        ui.label(format!("visual streams: {}", s.visual_streams.join(", ")))
            .on_hover_text("a stream the checkpoint never saw in training is not read (FER+ faces come without their surroundings: back frames are then ignored)");
    }
    ui.collapsing("trained on", |ui| ui.label(&s.trained_on));
    ui.separator();
    ui.strong("dev scores (measured when saved)");
    egui::Grid::new("dev-scores").striped(true).show(ui, |ui| {
        ui.label("dev set");
        ui.label("accuracy");
        ui.label("weighted F1");
        ui.end_row();
        for (name, acc, f1) in &s.dev_scores {
            ui.label(name);
            ui.label(format!("{acc:.4}"));
            ui.label(format!("{f1:.4}"));
            ui.end_row();
        }
    });
    ui.separator();
    if s.temperatures.is_empty() {
        ui.weak("uncalibrated: the probabilities are the network's own");
    } else {
        ui.collapsing(
            format!(
                "{} temperatures (fitted on pools held aside from training)",
                s.temperatures.len()
            ),
            |ui| {
                for (output, t) in &s.temperatures {
                    ui.label(format!("{output}: T = {t:.2}"));
                }
            },
        );
    }
    ui.separator();
    ui.strong("reliability: accuracy against confidence on each dev set");
    // Two diagrams a row, each with its figures above it.
    let sets: Vec<_> = s
        .reliability
        .iter()
        .filter(|(set, _, _)| !set.contains("pool"))
        .collect();
    egui::Grid::new("reliability")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            for pair in sets.chunks(2) {
                for (set, before, after) in pair {
                    ui.vertical(|ui| {
                        ui.set_width(270.0);
                        ui.label(egui::RichText::new(set.as_str()).strong());
                        let floor = after
                            .floor
                            .map_or(String::new(), |f| format!(", chance alone ≈ {f:.3}"));
                        ui.label(format!(
                            "ECE {:.3} raw → {:.3} calibrated ({} utt.{floor})",
                            before.ece, after.ece, after.n
                        ));
                        diagram(ui, set, before, after);
                    });
                }
                ui.end_row();
            }
        });
}

/// Accuracy against mean confidence per bin, with the diagonal of perfect calibration.
fn diagram(ui: &mut egui::Ui, set: &str, before: &Reliability, after: &Reliability) {
    let points = |r: &Reliability| -> Vec<[f64; 2]> {
        r.bins
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| [b.confidence, b.accuracy])
            .collect()
    };
    Plot::new(format!("reliability-{set}"))
        .height(180.0)
        .width(260.0)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("confidence")
        .y_axis_label("accuracy")
        .legend(Legend::default().position(Corner::RightBottom))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(Line::new("perfect", PlotPoints::from(vec![[0.0, 0.0], [1.0, 1.0]])).color(egui::Color32::GRAY));
            plot.line(Line::new("raw", PlotPoints::from(points(before))).color(egui::Color32::from_rgb(210, 120, 60)));
            plot.points(
                Points::new("raw", PlotPoints::from(points(before)))
                    .radius(3.0)
                    .color(egui::Color32::from_rgb(210, 120, 60)),
            );
            plot.line(
                Line::new("calibrated", PlotPoints::from(points(after))).color(egui::Color32::from_rgb(60, 130, 210)),
            );
            plot.points(
                Points::new("calibrated", PlotPoints::from(points(after)))
                    .radius(3.0)
                    .color(egui::Color32::from_rgb(60, 130, 210)),
            );
        });
}
