//! Every keyboard shortcut of the viewer in one table: what a key does is looked up here, and
//! the viewer then carries the [`Action`] out (`ui.rs`). Shortcuts are ignored while a text
//! field has the keyboard (typing a note must not relabel the utterance).

use egui::{Key, Modifiers};

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PlayPause,
    Previous,
    Next,
    First,
    Last,
    Open,
    ExplainWords,
    FollowVoice,
    /// Step through the selected utterance's keyframes (ELAN's `,` and `.`).
    FrameBack,
    FrameForward,
    /// Correct the selected utterance to label `k` of the label set (keys 1–9).
    Label(usize),
    ClearLabel,
    ToggleUnsure,
    NextDisagreement,
    Undo,
    Redo,
    Presentation,
}

/// Modifier state a binding needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mods {
    /// No command/ctrl or alt (shift ignored).
    Plain,
    /// Command/ctrl, without shift.
    Command,
    /// Command/ctrl with shift.
    CommandShift,
    /// Whatever is held.
    Any,
}

impl Mods {
    fn holds(self, m: Modifiers) -> bool {
        match self {
            Mods::Plain => !m.command && !m.alt,
            Mods::Command => m.command && !m.shift,
            Mods::CommandShift => m.command && m.shift,
            Mods::Any => true,
        }
    }
}

const DIGITS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// The bindings: key, modifiers, action (the README's shortcut list follows this table).
const BINDINGS: &[(Key, Mods, Action)] = &[
    (Key::Space, Mods::Any, Action::PlayPause),
    (Key::ArrowLeft, Mods::Any, Action::Previous),
    (Key::ArrowRight, Mods::Any, Action::Next),
    (Key::Home, Mods::Any, Action::First),
    (Key::End, Mods::Any, Action::Last),
    (Key::O, Mods::Command, Action::Open),
    (Key::E, Mods::Plain, Action::ExplainWords),
    (Key::V, Mods::Plain, Action::FollowVoice),
    (Key::Comma, Mods::Any, Action::FrameBack),
    (Key::Period, Mods::Any, Action::FrameForward),
    (Key::Num0, Mods::Plain, Action::ClearLabel),
    (Key::Backspace, Mods::Plain, Action::ClearLabel),
    (Key::U, Mods::Plain, Action::ToggleUnsure),
    (Key::N, Mods::Plain, Action::NextDisagreement),
    (Key::Z, Mods::Command, Action::Undo),
    (Key::Z, Mods::CommandShift, Action::Redo),
    (Key::F11, Mods::Any, Action::Presentation),
];

/// The action of `key` pressed with `modifiers`, if it is bound.
pub fn action(key: Key, modifiers: Modifiers) -> Option<Action> {
    if let Some(k) = DIGITS.iter().position(|d| *d == key) {
        return Mods::Plain.holds(modifiers).then_some(Action::Label(k));
    }
    BINDINGS
        .iter()
        .find(|(k, m, _)| *k == key && m.holds(modifiers))
        .map(|(_, _, a)| *a)
}

/// The actions of the keys pressed this frame (none while a widget has the keyboard, except
/// presentation mode's F11).
pub fn pressed(ctx: &egui::Context) -> Vec<Action> {
    let typing = ctx.memory(|m| m.focused().is_some());
    ctx.input(|i| {
        i.events
            .iter()
            .filter_map(|e| match e {
                egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } => action(*key, *modifiers),
                _ => None,
            })
            .filter(|a| !typing || *a == Action::Presentation)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_one_action_each() {
        let plain = Modifiers::NONE;
        assert_eq!(action(Key::Num3, plain), Some(Action::Label(2)));
        assert_eq!(action(Key::Num3, Modifiers::COMMAND), None, "cmd-3 is not a label");
        assert_eq!(action(Key::Z, Modifiers::COMMAND), Some(Action::Undo));
        assert_eq!(
            action(Key::Z, Modifiers::COMMAND | Modifiers::SHIFT),
            Some(Action::Redo)
        );
        assert_eq!(action(Key::Z, plain), None);
        assert_eq!(action(Key::O, Modifiers::COMMAND), Some(Action::Open));
        assert_eq!(action(Key::Space, plain), Some(Action::PlayPause));
        // No key is bound twice for the same modifiers.
        for (i, (k, m, _)) in BINDINGS.iter().enumerate() {
            for (k2, m2, _) in &BINDINGS[i + 1..] {
                assert!(!(k == k2 && m == m2), "{k:?} bound twice");
            }
        }
    }
}
