// Layout: the terminal size turned into rectangles — title bar, the panes side by side (or three
// and four in a 2×2 grid when the terminal is too narrow for them; each with its conversation
// above its stats, or the stats in a sidebar when one pane has room), the comparison line, the
// status line and the input (one line, more while a multi-line message is typed). Pure math.

/// A rectangle of terminal cells.
struct Rect: Equatable, Sendable {
    var x: Int
    var y: Int
    var width: Int
    var height: Int

    static let zero = Rect(x: 0, y: 0, width: 0, height: 0)
    var maxX: Int { x + width }
    var maxY: Int { y + height }
    /// The rectangle inside a one-cell border.
    var inset: Rect { Rect(x: x + 1, y: y + 1, width: max(0, width - 2), height: max(0, height - 2)) }
}

/// Where one pane's parts go.
struct PaneLayout: Equatable, Sendable {
    /// The bordered box of the pane (its title is on the top border).
    var frame: Rect
    /// Inside the frame, above the stats (or all of it when the stats are beside).
    var conversation: Rect
    /// The bordered box of the stats when they are in a sidebar, else nil.
    var statsFrame: Rect?
    /// Where the stats are painted.
    var stats: Rect
    /// The row of the line between conversation and stats inside the frame, when stacked.
    var separatorY: Int?
    /// How many columns the stats are painted in.
    var statsColumns: Int
}

/// The whole screen.
struct ScreenLayout: Equatable, Sendable {
    static let minimumWidth = 40
    static let minimumHeight = 12
    /// Narrowest a pane may be before the screen counts as too small.
    static let minimumPaneWidth = 24
    /// Fewest rows of a pane in a 2×2 grid (a few lines of conversation above a few of stats).
    static let minimumGridPaneHeight = 10
    /// Width of the stats sidebar (single pane on a wide terminal).
    static let sidebarWidth = 38
    /// A single pane gets a stats sidebar from this terminal width on.
    static let sidebarFromWidth = 100

    var width: Int
    var height: Int
    var title: Rect
    var panes: [PaneLayout]
    /// The line comparing the panes' last answers, above the status line, when asked for.
    var comparison: Rect?
    var status: Rect
    /// The input line, with the lines of a multi-line message above it.
    var input: Rect
    /// The terminal cannot show the UI; a message is shown instead.
    var tooSmall: Bool

    /// The smallest terminal that fits `paneCount` panes side by side.
    static func minimumSize(paneCount: Int) -> (width: Int, height: Int) {
        (max(minimumWidth, paneCount * minimumPaneWidth), minimumHeight)
    }

    /// The smallest terminal that fits three or four panes in a 2×2 grid (title, two rows of
    /// panes, status and input).
    static let minimumGridSize = (width: max(minimumWidth, 2 * minimumPaneWidth), height: 2 * minimumGridPaneHeight + 3)

    /// How `count` panes are arranged on a `width`×`height` terminal: side by side when each gets
    /// `minimumPaneWidth` columns, else (three or four) a 2×2 grid when it fits; nil: too small.
    static func arrangement(paneCount count: Int, width: Int, height: Int) -> (columns: Int, rows: Int)? {
        let sideBySide = minimumSize(paneCount: count)
        if width >= sideBySide.width && height >= sideBySide.height { return (count, 1) }
        if count > 2 && width >= minimumGridSize.width && height >= minimumGridSize.height { return (2, 2) }
        return nil
    }

    /// Rows the stats need when painted in `columns` columns.
    static func statsRows(columns: Int) -> Int {
        let items = StatsPanel.itemCount
        return (items + columns - 1) / max(1, columns)
    }

    /// Most rows the input takes in a `height`-row terminal (the panes keep the minimum's rows).
    static func maximumInputRows(height: Int) -> Int { max(1, min(7, 1 + (height - minimumHeight) / 2)) }

    /// `inputRows`: the rows the input wants (1, or more for a multi-line message), capped by
    /// `maximumInputRows`; `comparisonRow`: a row for the comparison line above the status line.
    init(width: Int, height: Int, paneCount: Int, inputRows: Int = 1, comparisonRow: Bool = false) {
        self.width = width
        self.height = height
        let count = max(1, paneCount)
        let arrangement = ScreenLayout.arrangement(paneCount: count, width: width, height: height)
        tooSmall = arrangement == nil
        let rows = max(1, min(inputRows, ScreenLayout.maximumInputRows(height: height)))
        title = Rect(x: 0, y: 0, width: width, height: 1)
        status = Rect(x: 0, y: max(0, height - rows - 1), width: width, height: 1)
        input = Rect(x: 0, y: max(0, height - rows), width: width, height: rows)
        panes = []
        guard let arrangement else { return }
        let extra = comparisonRow ? 1 : 0
        if comparisonRow { comparison = Rect(x: 0, y: status.y - 1, width: width, height: 1) }

        let area = Rect(x: 0, y: 1, width: width, height: height - 2 - rows - extra)
        if count == 1 && width >= ScreenLayout.sidebarFromWidth {
            let side = ScreenLayout.sidebarWidth
            let frame = Rect(x: 0, y: area.y, width: width - side, height: area.height)
            let statsFrame = Rect(x: width - side, y: area.y, width: side, height: area.height)
            panes = [PaneLayout(frame: frame, conversation: frame.inset, statsFrame: statsFrame,
                                stats: statsFrame.inset, separatorY: nil, statsColumns: 1)]
            return
        }
        // panes in rows of `columns`, the first ones one cell wider (taller) when the width (height)
        // does not divide; a last row with fewer panes shares the whole width
        var y = area.y
        for row in 0..<arrangement.rows {
            let h = area.height / arrangement.rows + (row < area.height % arrangement.rows ? 1 : 0)
            let inRow = min(arrangement.columns, count - row * arrangement.columns)
            var x = 0
            for column in 0..<inRow {
                let w = width / inRow + (column < width % inRow ? 1 : 0)
                panes.append(ScreenLayout.stacked(in: Rect(x: x, y: y, width: w, height: h)))
                x += w
            }
            y += h
        }
    }

    /// A pane in `frame` with its stats under the conversation.
    private static func stacked(in frame: Rect) -> PaneLayout {
        let inner = frame.inset
        let columns = inner.width >= 68 ? 2 : 1
        // the stats take what they need but leave the conversation at least half of the pane
        // (on a short terminal they show their most useful lines)
        let wanted = ScreenLayout.statsRows(columns: columns)
        let statsHeight = max(1, min(wanted, (inner.height - 1) / 2))
        let conversationHeight = max(1, inner.height - statsHeight - 1)
        let conversation = Rect(x: inner.x, y: inner.y, width: inner.width, height: conversationHeight)
        let separator = inner.y + conversationHeight
        let stats = Rect(x: inner.x, y: separator + 1, width: inner.width, height: inner.height - conversationHeight - 1)
        return PaneLayout(frame: frame, conversation: conversation, statsFrame: nil, stats: stats, separatorY: separator,
                          statsColumns: columns)
    }
}
