// Terminal: curses set up for the chat UI (raw bytes in, keypad off so readline decodes keys,
// colours from the theme) and put back on every way out — normal exit, exit(), SIGTERM/SIGHUP/
// SIGQUIT (turned into a quit request through the self-pipe), and crashes (restore, then die with
// the same signal). Only the UI thread calls into curses.

import CNCursesW
import CTerminalRescue
import Foundation
import Synchronization

typealias CursesWindow = UnsafeMutablePointer<WINDOW>

/// How a role is painted: curses attributes and a colour pair.
struct PaintStyle: Equatable {
    var attributes: attr_t
    var pair: Int16
}

final class Terminal {
    let window: CursesWindow
    /// Colours in use: 0 without colour (NO_COLOR or a monochrome terminal), else 8, 16 or 256.
    let colors: Int
    /// The locale is UTF-8: box drawing and gauges may use Unicode.
    let unicode: Bool
    private(set) var palette: [ThemeRole: PaintStyle] = [:]

    /// Set while curses owns the terminal (read by the exit and crash handlers).
    nonisolated(unsafe) static var isActive = false
    /// A SIGTERM/SIGHUP/SIGQUIT/SIGINT arrived: the event loop quits.
    static let quitSignal = Atomic<Bool>(false)
    /// Written to by signal handlers to wake the event loop (set by the loop).
    nonisolated(unsafe) static var wakeDescriptor: Int32 = -1

    /// Takes over the terminal. Throws when stdin/stdout is not a terminal curses knows.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        setlocale(LC_ALL, "")
        guard isatty(0) == 1, isatty(1) == 1 else { throw TerminalError.notATerminal }
        guard let out = fdopen(1, "w"), let input = fdopen(0, "r") else { throw TerminalError.notATerminal }
        tr_save_tty_modes()
        guard newterm(nil, out, input) != nil, let window = sh_stdscr() else {
            throw TerminalError.unknownTerminal(environment["TERM"] ?? "")
        }
        self.window = window
        unicode = sh_locale_is_utf8() != 0
        Terminal.isActive = true
        tr_set_terminal_taken(1)
        Terminal.installHandlers()

        raw()
        noecho()
        nonl()
        intrflush(window, false)
        keypad(window, false)  // readline decodes escape sequences itself
        meta(window, true)
        nodelay(window, true)
        curs_set(1)
        Terminal.bracketedPaste(true)

        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        if has_colors() && !noColor {
            start_color()
            use_default_colors()
            colors = Int(sh_colors())
        } else {
            colors = 0
        }
    }

    /// Gives the terminal back (idempotent).
    func close() {
        guard Terminal.isActive else { return }
        Terminal.isActive = false
        tr_set_terminal_taken(0)
        endwin()
        Terminal.bracketedPaste(false)
    }

    /// Asks the terminal to mark pasted text (ESC [200~ … ESC [201~), so readline inserts a
    /// multi-line paste as one message instead of sending its first line; off again on the way
    /// out. A direct write: also called from signal handlers.
    static func bracketedPaste(_ on: Bool) {
        let sequence: StaticString = on ? "\u{1B}[?2004h" : "\u{1B}[?2004l"
        _ = write(1, sequence.utf8Start, sequence.utf8CodeUnitCount)
    }

    deinit { close() }

    var width: Int { Int(sh_cols()) }
    var height: Int { Int(sh_lines()) }

    /// The next input byte, `KEY_RESIZE`, or nil when none is waiting.
    func readKey() -> Int32? {
        let c = wgetch(window)
        return c == ERR ? nil : c
    }

    /// Waits up to `timeoutMilliseconds` for the next byte (for readline asking mid-sequence).
    func readKeyWaiting(timeoutMilliseconds: Int32) -> Int32? {
        wtimeout(window, timeoutMilliseconds)
        defer { nodelay(window, true) }
        let c = wgetch(window)
        return c == ERR ? nil : c
    }

    /// Sets up colour pairs and attributes for `theme`.
    func apply(_ theme: Theme) {
        palette = [:]
        let text = theme.style(.text)
        for (i, role) in ThemeRole.allCases.enumerated() {
            var style = theme.style(role)
            var attributes = sh_a_normal()
            var pair: Int16 = 0
            if colors > 0 {
                // a role without its own background sits on the text background
                if style.background == .terminalDefault { style.background = text.background }
                let fg = style.foreground.adapted(toColors: colors)
                let bg = style.background.adapted(toColors: colors)
                pair = Int16(i + 1)
                init_pair(pair, Terminal.cursesColor(fg.color), Terminal.cursesColor(bg.color))
                if fg.bright { attributes |= sh_a_bold() }
            } else {
                attributes |= Terminal.monochromeAttributes(role)
            }
            if style.bold { attributes |= sh_a_bold() }
            if style.dim { attributes |= sh_a_dim() }
            if style.underline { attributes |= sh_a_underline() }
            if style.reverse { attributes |= sh_a_reverse() }
            palette[role] = PaintStyle(attributes: attributes, pair: pair)
        }
        let background = palette[.text] ?? PaintStyle(attributes: 0, pair: 0)
        wbkgdset(window, chtype(sh_color_pair(Int32(background.pair))) | chtype(UInt8(ascii: " ")))
    }

    private static func cursesColor(_ c: ThemeColor) -> Int16 {
        switch c {
        case .terminalDefault: return -1
        case let .index(i): return Int16(i)
        }
    }

    /// Without colour, roles are told apart by attributes.
    private static func monochromeAttributes(_ role: ThemeRole) -> attr_t {
        switch role {
        case .title, .help, .codeLabel: return sh_a_reverse()
        case .borderFocused, .user, .error, .statsValue, .prompt, .heading: return sh_a_bold()
        case .border, .statsLabel, .gaugeEmpty, .notice, .quote, .tableBorder: return sh_a_dim()
        case .link: return sh_a_underline()
        case .gaugeFill: return sh_a_bold()
        default: return sh_a_normal()
        }
    }

    // MARK: restoring the terminal on every way out

    private static var handlersInstalled = false

    private static func installHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        atexit {
            if Terminal.isActive { Terminal.isActive = false; tr_set_terminal_taken(0); endwin(); Terminal.bracketedPaste(false) }
        }
        // a parent may have left these blocked (the mask is inherited): resizes and quit requests
        // must get through
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGWINCH, SIGTERM, SIGHUP, SIGQUIT, SIGINT, SIGCONT, SIGTSTP] { sigaddset(&unblock, sig) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        // polite signals: ask the loop to quit, it restores the terminal and saves
        for sig in [SIGTERM, SIGHUP, SIGQUIT, SIGINT] {
            signal(sig) { _ in
                Terminal.quitSignal.store(true, ordering: .releasing)
                var byte: UInt8 = 0x51
                if Terminal.wakeDescriptor >= 0 { _ = write(Terminal.wakeDescriptor, &byte, 1) }
            }
        }
        // crashes: give the terminal back (on an alternate stack, so a stack overflow can too),
        // then die of the same signal
        tr_install_crash_handlers()
        _ = tr_alt_stack_begin()  // the UI thread's, for the life of the process
    }
}

enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case unknownTerminal(String)

    var description: String {
        switch self {
        case .notATerminal: return "sirocco chat needs a terminal (stdin and stdout); use 'sirocco run --prompt TEXT' in scripts"
        case let .unknownTerminal(t): return "cannot use the terminal (TERM=\(t.isEmpty ? "unset" : t))"
        }
    }
}
