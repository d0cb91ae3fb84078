// Layout: the terminal size turned into rectangles — title bar, one column per pane (conversation
// above its stats, or the stats in a sidebar when one pane has room), the status line and the
// input (one line, more while a multi-line message is typed). Pure math, no curses.

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
    /// Width of the stats sidebar (single pane on a wide terminal).
    static let sidebarWidth = 38
    /// A single pane gets a stats sidebar from this terminal width on.
    static let sidebarFromWidth = 100

    var width: Int
    var height: Int
    var title: Rect
    var panes: [PaneLayout]
    var status: Rect
    /// The input line, with the lines of a multi-line message above it.
    var input: Rect
    /// The terminal cannot show the UI; a message is shown instead.
    var tooSmall: Bool

    /// The smallest terminal that fits `paneCount` panes.
    static func minimumSize(paneCount: Int) -> (width: Int, height: Int) {
        (max(minimumWidth, paneCount * minimumPaneWidth), minimumHeight)
    }

    /// Rows the stats need when painted in `columns` columns.
    static func statsRows(columns: Int) -> Int {
        let items = StatsPanel.itemCount
        return (items + columns - 1) / max(1, columns)
    }

    /// Most rows the input takes in a `height`-row terminal (the panes keep the minimum's rows).
    static func maximumInputRows(height: Int) -> Int { max(1, min(7, 1 + (height - minimumHeight) / 2)) }

    /// `inputRows`: the rows the input wants (1, or more for a multi-line message), capped by
    /// `maximumInputRows`.
    init(width: Int, height: Int, paneCount: Int, inputRows: Int = 1) {
        self.width = width
        self.height = height
        let count = max(1, paneCount)
        let minimum = ScreenLayout.minimumSize(paneCount: count)
        tooSmall = width < minimum.width || height < minimum.height
        let rows = max(1, min(inputRows, ScreenLayout.maximumInputRows(height: height)))
        title = Rect(x: 0, y: 0, width: width, height: 1)
        status = Rect(x: 0, y: max(0, height - rows - 1), width: width, height: 1)
        input = Rect(x: 0, y: max(0, height - rows), width: width, height: rows)
        panes = []
        if tooSmall { return }

        let area = Rect(x: 0, y: 1, width: width, height: height - 2 - rows)
        if count == 1 && width >= ScreenLayout.sidebarFromWidth {
            let side = ScreenLayout.sidebarWidth
            let frame = Rect(x: 0, y: area.y, width: width - side, height: area.height)
            let statsFrame = Rect(x: width - side, y: area.y, width: side, height: area.height)
            panes = [PaneLayout(frame: frame, conversation: frame.inset, statsFrame: statsFrame,
                                stats: statsFrame.inset, separatorY: nil, statsColumns: 1)]
            return
        }
        // one column per pane, the first ones one cell wider when the width does not divide
        var x = 0
        for i in 0..<count {
            let w = width / count + (i < width % count ? 1 : 0)
            let frame = Rect(x: x, y: area.y, width: w, height: area.height)
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
            panes.append(PaneLayout(frame: frame, conversation: conversation, statsFrame: nil, stats: stats,
                                    separatorY: separator, statsColumns: columns))
            x += w
        }
    }
}
