// KeyBindings: the keys the UI takes for itself (everything else is readline's line editing),
// the escape sequences they arrive as, and the live sampling knobs they turn. Pure tables.

import SiroccoEngine

/// A sampling setting that keys turn up and down in steps, within limits.
enum SamplerKnob: CaseIterable, Sendable {
    case temperature, topP, topK, minP, repeatPenalty

    var name: String {
        switch self {
        case .temperature: return "temp"
        case .topP: return "top-p"
        case .topK: return "top-k"
        case .minP: return "min-p"
        case .repeatPenalty: return "repeat penalty"
        }
    }

    /// `settings` with this knob moved one step up (`direction` 1) or down (-1), clamped.
    func step(_ settings: SamplerSettings, direction: Int) -> SamplerSettings {
        var s = settings
        let d = Float(direction)
        func snap(_ v: Float, _ step: Float) -> Float { (v / step).rounded() * step }
        switch self {
        case .temperature: s.temperature = min(2, max(0, snap(s.temperature + 0.1 * d, 0.05)))
        case .topP: s.topP = min(1, max(0.05, snap(s.topP + 0.05 * d, 0.05)))
        case .topK: s.topK = min(200, max(0, s.topK + 5 * direction))
        case .minP: s.minP = min(0.5, max(0, snap(s.minP + 0.01 * d, 0.01)))
        case .repeatPenalty: s.repeatPenalty = min(2, max(1, snap(s.repeatPenalty + 0.05 * d, 0.05)))
        }
        return s
    }

    /// The knob's value for the status line.
    func value(in s: SamplerSettings) -> String {
        switch self {
        case .temperature: return Format.decimal(s.temperature)
        case .topP: return Format.decimal(s.topP)
        case .topK: return "\(s.topK)"
        case .minP: return Format.decimal(s.minP)
        case .repeatPenalty: return Format.decimal(s.repeatPenalty)
        }
    }
}

/// What a bound key does.
enum KeyAction: Equatable, Sendable {
    case help
    case knob(SamplerKnob, Int)
    case focusNext
    case focusPrevious
    case pageUp
    case pageDown
    case redraw
    case toggleReasoning
}

/// A key the UI handles: its name in /help, the escape sequences it sends (xterm, tmux/screen,
/// Linux console) and its terminfo capability, which is looked up too.
struct KeyBinding: Sendable {
    var key: String
    var sequences: [String]
    var terminfo: String?
    var action: KeyAction

    static func function(_ n: Int, _ sequences: [String], _ action: KeyAction) -> KeyBinding {
        KeyBinding(key: "F\(n)", sequences: sequences, terminfo: "kf\(n)", action: action)
    }

    static let all: [KeyBinding] = [
        .function(1, ["\u{1B}OP", "\u{1B}[11~", "\u{1B}[[A"], .help),
        .function(2, ["\u{1B}OQ", "\u{1B}[12~", "\u{1B}[[B"], .knob(.temperature, -1)),
        .function(3, ["\u{1B}OR", "\u{1B}[13~", "\u{1B}[[C"], .knob(.temperature, +1)),
        .function(4, ["\u{1B}OS", "\u{1B}[14~", "\u{1B}[[D"], .knob(.topP, -1)),
        .function(5, ["\u{1B}[15~", "\u{1B}[[E"], .knob(.topP, +1)),
        .function(6, ["\u{1B}[17~"], .knob(.topK, -1)),
        .function(7, ["\u{1B}[18~"], .knob(.topK, +1)),
        .function(8, ["\u{1B}[19~"], .knob(.minP, -1)),
        .function(9, ["\u{1B}[20~"], .knob(.minP, +1)),
        .function(10, ["\u{1B}[21~"], .knob(.repeatPenalty, -1)),
        .function(11, ["\u{1B}[23~"], .knob(.repeatPenalty, +1)),
        .function(12, ["\u{1B}[24~"], .toggleReasoning),
        KeyBinding(key: "Tab", sequences: ["\t"], terminfo: nil, action: .focusNext),
        KeyBinding(key: "Shift-Tab", sequences: ["\u{1B}[Z"], terminfo: "kcbt", action: .focusPrevious),
        KeyBinding(key: "PageUp", sequences: ["\u{1B}[5~"], terminfo: "kpp", action: .pageUp),
        KeyBinding(key: "PageDown", sequences: ["\u{1B}[6~"], terminfo: "knp", action: .pageDown),
        KeyBinding(key: "Ctrl-L", sequences: ["\u{0C}"], terminfo: nil, action: .redraw),
    ]

    /// Lines for /help: the UI's keys, then readline's.
    static let helpLines: [(keys: String, summary: String)] = [
        ("Enter", "send to every pane (to the focused one only after /all)"),
        ("Ctrl-C", "stop the answer (partial answer stays); clear the line"),
        ("Ctrl-D", "quit (on an empty line), as /bye"),
        ("F1", "this help (any key closes it)"),
        ("F2 / F3", "temperature − / +  (0.1 steps)"),
        ("F4 / F5", "top-p − / +  (0.05 steps)"),
        ("F6 / F7", "top-k − / +  (steps of 5)"),
        ("F8 / F9", "min-p − / +  (0.01 steps)"),
        ("F10 / F11", "repeat penalty − / +  (0.05 steps)"),
        ("F12", "unfold / fold the focused pane's reasoning (<think> blocks)"),
        ("Tab / Shift-Tab", "focus the next / previous pane"),
        ("PageUp / PageDown", "scroll the focused pane"),
        ("Up / Down, Ctrl-A/E/K/U/W", "input history, line editing (readline; also Alt-B/F)"),
    ]
}
