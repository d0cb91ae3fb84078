// Screen: paints the whole UI from the state into the layout's rectangles — title bar, panes
// (border, conversation, stats; a placeholder for a model being opened), the comparison line,
// status line, input line, help overlay, and the loading and "terminal too small" screens.
// Paints only; returns where the cursor goes.

import CNCursesW

enum Screen {
    static let spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
    static let asciiSpinnerFrames = ["|", "/", "-", "\\"]

    /// Paints everything; returns the cursor position (column, row).
    static func draw(_ state: AppState, layout: ScreenLayout, canvas: Canvas, inputText: String, inputCursor: Int,
                     cache: WrapCache) -> (x: Int, y: Int) {
        // (the input's rows hold a multi-line message's lines above the line being edited)
        werase(canvas.window)
        if case let .loading(message) = state.phase {
            drawLoading(message, state: state, layout: layout, canvas: canvas)
            return (0, max(0, layout.height - 1))
        }
        if layout.tooSmall {
            drawTooSmall(state: state, layout: layout, canvas: canvas)
            return (0, 0)
        }
        drawTitle(state, in: layout.title, canvas: canvas)
        for (i, paneLayout) in layout.panes.enumerated() where state.panes.indices.contains(i) {
            drawPane(state.panes[i], focused: i == state.focus, paneCount: state.panes.count, layout: paneLayout,
                     canvas: canvas, cache: cache)
        }
        if let opening = state.openingModel, layout.panes.indices.contains(state.panes.count) {
            drawOpening(opening, number: state.panes.count + 1, state: state, in: layout.panes[state.panes.count].frame,
                        canvas: canvas)
        }
        if let r = layout.comparison, let line = Comparison.line(state.panes, width: r.width - 2) {
            canvas.text(" " + TextWidth.truncate(line, width: r.width - 2), x: r.x, y: r.y, width: r.width, role: .statsValue)
        }
        drawStatus(state, in: layout.status, canvas: canvas)
        let cursor = drawInput(inputText, cursorByte: inputCursor, block: state.multiline.typed, in: layout.input,
                               canvas: canvas)
        if state.helpVisible { drawHelp(layout: layout, canvas: canvas) }
        return cursor
    }

    static func spinner(_ frame: Int, unicode: Bool) -> String {
        let frames = unicode ? spinnerFrames : asciiSpinnerFrames
        return frames[frame % frames.count]
    }

    private static func centered(_ text: String, y: Int, width: Int, role: ThemeRole, canvas: Canvas) {
        let w = min(width, TextWidth.of(text))
        canvas.text(text, x: max(0, (width - w) / 2), y: y, width: width, role: role)
    }

    private static func drawLoading(_ message: String, state: AppState, layout: ScreenLayout, canvas: Canvas) {
        let y = max(0, layout.height / 2 - 1)
        centered("Sirocco", y: max(0, y - 2), width: layout.width, role: .user, canvas: canvas)
        centered("\(spinner(state.spinnerFrame, unicode: canvas.unicode)) \(message)", y: y, width: layout.width,
                 role: .text, canvas: canvas)
        if let status = state.status {
            centered(status.text, y: min(layout.height - 1, y + 2), width: layout.width,
                     role: status.isError ? .error : .status, canvas: canvas)
        }
    }

    private static func drawTooSmall(state: AppState, layout: ScreenLayout, canvas: Canvas) {
        let count = state.panes.count + (state.openingModel == nil ? 0 : 1)
        let need = ScreenLayout.minimumSize(paneCount: count)
        let grid = ScreenLayout.minimumGridSize
        var lines = ["Terminal too small", "\(layout.width)×\(layout.height), need \(need.width)×\(need.height)"]
        if count > 2 { lines[1] += " (\(count) panes side by side) or \(grid.width)×\(grid.height) (2×2)" }
        lines += ["Enlarge the window" + (count > 1 ? " or /close a pane" : ""), "(Ctrl-D quits)"]
        let top = max(0, layout.height / 2 - lines.count / 2)
        for (i, line) in lines.enumerated() where top + i < layout.height {
            centered(line, y: top + i, width: layout.width, role: i == 0 ? .error : .text, canvas: canvas)
        }
    }

    private static func drawTitle(_ state: AppState, in r: Rect, canvas: Canvas) {
        canvas.fill(r, role: .title)
        var left = " Sirocco"
        if state.panes.count > 1, state.panes.indices.contains(state.focus) {
            let pane = state.panes[state.focus]
            // the sending mode before the focus: on a narrow terminal the model name is cut first
            left += "  ·  \(state.panes.count) panes  ·  " + (state.sendToAll ? "to all panes" : "to pane \(pane.index + 1) only")
            left += "  ·  focus: pane \(pane.index + 1) (\(pane.title))"
        } else if let pane = state.panes.first {
            left += "  ·  \(pane.title)"
        }
        let right = state.panes.count > 1 ? "F1 help  Tab focus  Ctrl-C stop " : "F1 help  Ctrl-C stop "
        let rightWidth = TextWidth.of(right)
        if r.width - rightWidth > TextWidth.of(left) + 2 {
            canvas.text(right, x: r.maxX - rightWidth, y: r.y, width: rightWidth, role: .title)
            canvas.text(left, x: r.x, y: r.y, width: r.width - rightWidth - 1, role: .title)
        } else {
            canvas.text(TextWidth.truncate(left, width: r.width), x: r.x, y: r.y, width: r.width, role: .title)
        }
    }

    private static func drawPane(_ pane: PaneState, focused: Bool, paneCount: Int, layout: PaneLayout, canvas: Canvas,
                                 cache: WrapCache) {
        let borderRole: ThemeRole = focused && paneCount > 1 ? .borderFocused : .border
        canvas.box(layout.frame, role: borderRole)
        var title = " \(pane.index + 1) · \(pane.title) "
        if pane.showsMarkdownSource { title += "· markdown source " }
        if focused && paneCount > 1 { title += "● focused " }
        canvas.text(TextWidth.truncate(title, width: layout.frame.width - 4), x: layout.frame.x + 2, y: layout.frame.y,
                    width: layout.frame.width - 4, role: borderRole)

        let below = ConversationPane.draw(pane, in: layout.conversation, canvas: canvas, cache: cache)

        if let statsFrame = layout.statsFrame {
            canvas.box(statsFrame, role: .border)
            canvas.text(" stats ", x: statsFrame.x + 2, y: statsFrame.y, width: statsFrame.width - 4, role: .border)
            StatsPanel.draw(pane, in: layout.stats, columns: layout.statsColumns, canvas: canvas)
            drawKeyLegend(below: StatsPanel.itemCount, in: layout.stats, canvas: canvas)
        } else if let separatorY = layout.separatorY {
            canvas.horizontalLine(x: layout.frame.x, y: separatorY, width: layout.frame.width, role: borderRole, tees: true)
            canvas.text(" stats ", x: layout.frame.x + 2, y: separatorY, width: layout.frame.width - 4, role: borderRole)
            StatsPanel.draw(pane, in: layout.stats, columns: layout.statsColumns, canvas: canvas)
        }
        if pane.scrollTop != nil { drawScrollNote(linesBelow: below, layout: layout, canvas: canvas) }
    }

    /// The box of a pane whose model is being loaded (/model): its number, the name and a spinner.
    private static func drawOpening(_ name: String, number: Int, state: AppState, in frame: Rect, canvas: Canvas) {
        canvas.box(frame, role: .border)
        let title = TextWidth.truncate(" \(number) · \(TextWidth.sanitize(name)) ", width: frame.width - 4)
        canvas.text(title, x: frame.x + 2, y: frame.y, width: frame.width - 4, role: .border)
        let inner = frame.inset
        guard inner.height > 0, inner.width > 2 else { return }
        let text = "\(spinner(state.spinnerFrame, unicode: canvas.unicode)) loading \(TextWidth.sanitize(name)) …"
        canvas.text(TextWidth.truncate(text, width: inner.width - 2), x: inner.x + 1, y: inner.y + inner.height / 2,
                    width: inner.width - 2, role: .notice)
    }

    /// "↑ 12 lines back" on the line under the conversation, right-aligned, while scrolled back.
    private static func drawScrollNote(linesBelow: Int, layout: PaneLayout, canvas: Canvas) {
        let note = " ↑ \(linesBelow) lines back · PageDown "
        let w = min(TextWidth.of(note), layout.frame.width - 4)
        canvas.text(note, x: layout.frame.maxX - 2 - w, y: layout.separatorY ?? (layout.frame.maxY - 1), width: w,
                    role: .status)
    }

    /// The live keys, under the stats in the sidebar when there is room.
    private static func drawKeyLegend(below rows: Int, in r: Rect, canvas: Canvas) {
        let legend = [("F2 F3", "temp − +"), ("F4 F5", "top-p − +"), ("F6 F7", "top-k − +"), ("F8 F9", "min-p − +"),
                      ("F10 F11", "repeat − +"), ("PgUp PgDn", "scroll"), ("F1", "help")]
        let top = r.y + rows + 1
        guard top + legend.count <= r.maxY else { return }
        for (i, (keys, what)) in legend.enumerated() {
            canvas.text(keys, x: r.x + 1, y: top + i, width: StatsPanel.labelWidth, role: .statsLabel)
            canvas.text(what, x: r.x + 1 + StatsPanel.labelWidth, y: top + i, width: r.width - StatsPanel.labelWidth - 1,
                        role: .statsLabel)
        }
    }

    private static func drawStatus(_ state: AppState, in r: Rect, canvas: Canvas) {
        if let status = state.status {
            canvas.text(" " + TextWidth.truncate(status.text, width: r.width - 2), x: r.x, y: r.y, width: r.width,
                        role: status.isError ? .error : .status)
        } else if state.anyStreaming {
            canvas.text(" \(spinner(state.spinnerFrame, unicode: canvas.unicode)) answering…  Ctrl-C stops",
                        x: r.x, y: r.y, width: r.width, role: .status)
        } else if state.multiline.isOpen {
            canvas.text(" multi-line message: a line ending in \"\"\" sends it · Ctrl-C discards",
                        x: r.x, y: r.y, width: r.width, role: .statsLabel)
        } else {
            canvas.text(" Enter sends · /help or F1 for keys and commands · /bye quits", x: r.x, y: r.y, width: r.width,
                        role: .statsLabel)
        }
    }

    /// The line being edited on the input's last row; above it, a multi-line message's lines so
    /// far (the latest ones when they do not all fit, the first row saying how many are hidden).
    private static func drawInput(_ text: String, cursorByte: Int, block: [String]?, in r: Rect,
                                  canvas: Canvas) -> (x: Int, y: Int) {
        let prompt = canvas.unicode ? "› " : "> "
        let more = canvas.unicode ? "… " : ". "
        let promptWidth = TextWidth.of(prompt)
        let lineY = r.maxY - 1
        let typed = block ?? []
        let shown = min(typed.count, r.height - 1)
        for (row, i) in (typed.count - shown..<typed.count).enumerated() {
            let y = lineY - shown + row
            let hidden = typed.count - shown
            if row == 0 && hidden > 0 {
                canvas.text("\(more)(\(hidden + 1) lines above)", x: r.x, y: y, width: r.width, role: .statsLabel)
                continue
            }
            canvas.text(i == 0 ? prompt : more, x: r.x, y: y, width: promptWidth, role: .prompt)
            let line = TextWidth.truncate(TextWidth.sanitize(typed[i]), width: r.width - promptWidth - 1)
            canvas.text(line, x: r.x + promptWidth, y: y, width: r.width - promptWidth - 1, role: .input)
        }
        canvas.text(block == nil ? prompt : more, x: r.x, y: lineY, width: promptWidth, role: .prompt)
        let slice = InputLine.visibleSlice(text: text, cursorByte: cursorByte, width: r.width - promptWidth - 1,
                                           newline: canvas.unicode ? "↵" : "|")
        canvas.text(slice.text, x: r.x + promptWidth, y: lineY, width: r.width - promptWidth - 1, role: .input)
        return (r.x + promptWidth + slice.cursorColumn, lineY)
    }

    /// The keys and commands, in a box over the panes.
    static func helpLines() -> [(String, String)] {
        var lines: [(String, String)] = [("Keys", "")]
        lines += KeyBinding.helpLines.map { ($0.keys, $0.summary) }
        lines.append(("", ""))
        lines.append(("Commands", ""))
        lines += Command.helpLines.map { ($0.usage, $0.summary) }
        return lines
    }

    /// Help rows for a box `width` columns wide: summaries wrapped under their key column; when
    /// more rows than `height` exist, the last shown row says how many are hidden.
    static func helpRows(width: Int, height: Int, keyWidth: Int = 27) -> [(String, String)] {
        let summaryWidth = max(10, width - keyWidth - 2)
        var rows: [(String, String)] = []
        for (left, right) in helpLines() {
            let wrapped = right.isEmpty ? [""] : WordWrap.wrap(right, width: summaryWidth)
            for (i, piece) in wrapped.enumerated() { rows.append((i == 0 ? left : "", piece)) }
        }
        guard rows.count > height, height >= 1 else { return rows }
        let shown = Array(rows.prefix(height - 1))
        return shown + [("", "… \(rows.count - shown.count) more lines: a taller terminal shows them")]
    }

    private static func drawHelp(layout: ScreenLayout, canvas: Canvas) {
        let keyWidth = 27
        let width = min(layout.width - 2, 100)
        let wanted = helpRows(width: width - 2, height: .max, keyWidth: keyWidth).count
        let height = min(layout.height - 2, wanted + 3)
        let box = Rect(x: (layout.width - width) / 2, y: max(0, (layout.height - height) / 2), width: width, height: height)
        canvas.fill(box, role: .help)
        canvas.box(box, role: .help)
        canvas.text(" Help — any key closes ", x: box.x + 2, y: box.y, width: box.width - 4, role: .help, bold: true)
        let inner = box.inset
        let rows = helpRows(width: inner.width, height: inner.height - 1, keyWidth: keyWidth)
        for (i, (left, right)) in rows.enumerated() {
            let y = inner.y + 1 + i
            let heading = right.isEmpty && !left.isEmpty
            canvas.text(left, x: inner.x + 1, y: y, width: min(keyWidth, inner.width - 1), role: .help, bold: heading)
            canvas.text(right, x: inner.x + 1 + keyWidth, y: y, width: inner.width - keyWidth - 2, role: .help)
        }
    }
}
