//! Presentation mode for demos: larger fonts (egui zoom), the explanation panel enlarged,
//! auto-advance through utterances as playback passes their end, and "save panel as PNG"
//! (a viewport screenshot cropped to the explanation panel, written atomically).

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};

/// Zoom factor while presenting.
pub const ZOOM: f32 = 1.5;

pub struct Presentation {
    pub on: bool,
    /// The explanation panel's rectangle in the last frame (points).
    pub panel_rect: Option<egui::Rect>,
    done_tx: Sender<Result<PathBuf, String>>,
    done_rx: Receiver<Result<PathBuf, String>>,
}

impl Default for Presentation {
    fn default() -> Self {
        let (done_tx, done_rx) = channel();
        Self {
            on: false,
            panel_rect: None,
            done_tx,
            done_rx,
        }
    }
}

impl Presentation {
    pub fn toggle(&mut self, ctx: &egui::Context) {
        self.on = !self.on;
        ctx.set_zoom_factor(if self.on { ZOOM } else { 1.0 });
    }

    /// Ask for a screenshot; the explanation panel is cropped out of it and saved to `path`.
    pub fn save_panel_png(&self, ctx: &egui::Context, path: PathBuf) {
        let Some(rect) = self.panel_rect else { return };
        let ppp = ctx.pixels_per_point();
        let tx = self.done_tx.clone();
        let wake = ctx.clone();
        let callback = egui::ScreenshotCallback::new(move |image| {
            let result = crop_png(&image, rect, ppp)
                .and_then(|png| crate::fsutil::write_atomic(&path, &png).map_err(|e| e.to_string()))
                .map(|()| path.clone())
                .map_err(|e| format!("cannot save {}: {e}", path.display()));
            let _ = tx.send(result);
            wake.request_repaint();
        });
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(callback));
    }

    /// Saved screenshots (or why not) since the last call.
    pub fn finished(&self) -> Vec<Result<PathBuf, String>> {
        self.done_rx.try_iter().collect()
    }
}

/// Crop `rect` (points; `ppp` pixels per point) out of a screenshot and encode it as PNG.
pub fn crop_png(image: &egui::ColorImage, rect: egui::Rect, ppp: f32) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let px = |v: f32, max: usize| ((v * ppp).round().max(0.0) as usize).min(max);
    let (x0, y0) = (px(rect.min.x, w), px(rect.min.y, h));
    let (x1, y1) = (px(rect.max.x, w), px(rect.max.y, h));
    if x1 <= x0 || y1 <= y0 {
        return Err("the panel is not on screen".into());
    }
    let part = image.region_by_pixels([x0, y0], [x1 - x0, y1 - y0]);
    let rgba: Vec<u8> = part.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    let img = image::RgbaImage::from_raw(part.size[0] as u32, part.size[1] as u32, rgba)
        .ok_or("the screenshot has an unexpected size")?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_the_panel_in_pixels_and_clamps_to_the_image() {
        let mut img = egui::ColorImage::filled([40, 20], egui::Color32::BLACK);
        img.pixels[5 * 40 + 30] = egui::Color32::RED; // pixel (30, 5)
                                                      // Points 10..30 × 0..10 at 2 pixels per point → pixels 20..40 × 0..20 (clamped to 40).
        let png = crop_png(
            &img,
            egui::Rect::from_min_max(egui::pos2(10.0, 0.0), egui::pos2(30.0, 10.0)),
            2.0,
        )
        .unwrap();
        let back = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(back.dimensions(), (20, 20));
        assert_eq!(back.get_pixel(10, 5).0, [255, 0, 0, 255]);
        assert!(crop_png(
            &img,
            egui::Rect::from_min_max(egui::pos2(50.0, 0.0), egui::pos2(60.0, 5.0)),
            1.0
        )
        .is_err());
    }
}
