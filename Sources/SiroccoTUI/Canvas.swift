// Canvas: the only drawing primitives — text clipped to a width, filled rectangles, lines and
// boxes — painted into the curses window with the theme's styles. Used by the draw functions on
// the UI thread; it never refreshes the screen (the event loop does, once per frame).

import CNCursesW

/// Paints text into the curses window with the theme's styles, clipped to rectangles.
struct Canvas {
    let window: CursesWindow
    let palette: [ThemeRole: PaintStyle]
    let unicode: Bool

    private func use(_ role: ThemeRole, extra: attr_t = 0) {
        let s = palette[role] ?? PaintStyle(attributes: 0, pair: 0)
        wattr_set(window, s.attributes | extra, s.pair, nil)
    }

    /// Paints `text` at (x, y), cut to `width` columns.
    func text(_ text: String, x: Int, y: Int, width: Int, role: ThemeRole, bold: Bool = false) {
        guard width > 0 else { return }
        let cut = TextWidth.prefix(TextWidth.sanitize(text).replacingOccurrences(of: "\n", with: " "), width: width)
        guard !cut.isEmpty else { return }
        use(role, extra: bold ? sh_a_bold() : 0)
        mvwaddstr(window, Int32(y), Int32(x), cut)
    }

    /// Paints styled runs one after another from (x, y), cut to `width` columns in all.
    func spans(_ spans: [StyledSpan], x: Int, y: Int, width: Int) {
        var column = 0
        for span in spans {
            let text = TextWidth.sanitize(span.text).replacingOccurrences(of: "\n", with: " ")
            if text.isEmpty { continue }
            let cut = TextWidth.prefix(text, width: width - column)
            guard !cut.isEmpty else { return }
            use(span.role, extra: Canvas.curses(span.attributes))
            mvwaddstr(window, Int32(y), Int32(x + column), cut)
            column += TextWidth.of(cut)
            if cut.count < text.count { return }
        }
    }

    private static func curses(_ attributes: TextAttributes) -> attr_t {
        var a = sh_a_normal()
        if attributes.contains(.bold) { a |= sh_a_bold() }
        if attributes.contains(.italic) { a |= sh_a_italic() }
        if attributes.contains(.underline) { a |= sh_a_underline() }
        return a
    }

    /// Fills a rectangle with spaces in `role`'s colours.
    func fill(_ r: Rect, role: ThemeRole) {
        guard r.width > 0 else { return }
        let blank = String(repeating: " ", count: r.width)
        use(role)
        for y in r.y..<r.maxY { mvwaddstr(window, Int32(y), Int32(r.x), blank) }
    }

    /// A horizontal line; with `tees` it joins the box's sides.
    func horizontalLine(x: Int, y: Int, width: Int, role: ThemeRole, tees: Bool = false) {
        guard width > 0 else { return }
        use(role)
        mvwhline(window, Int32(y), Int32(x), sh_acs_hline(), Int32(width))
        if tees && width >= 2 {
            mvwaddch(window, Int32(y), Int32(x), sh_acs_ltee())
            mvwaddch(window, Int32(y), Int32(x + width - 1), sh_acs_rtee())
        }
    }

    /// A one-cell border around `r`.
    func box(_ r: Rect, role: ThemeRole) {
        guard r.width >= 2, r.height >= 2 else { return }
        use(role)
        let (x0, y0, x1, y1) = (Int32(r.x), Int32(r.y), Int32(r.maxX - 1), Int32(r.maxY - 1))
        mvwhline(window, y0, x0 + 1, sh_acs_hline(), Int32(r.width - 2))
        mvwhline(window, y1, x0 + 1, sh_acs_hline(), Int32(r.width - 2))
        mvwvline(window, y0 + 1, x0, sh_acs_vline(), Int32(r.height - 2))
        mvwvline(window, y0 + 1, x1, sh_acs_vline(), Int32(r.height - 2))
        mvwaddch(window, y0, x0, sh_acs_ulcorner())
        mvwaddch(window, y0, x1, sh_acs_urcorner())
        mvwaddch(window, y1, x0, sh_acs_llcorner())
        mvwaddch(window, y1, x1, sh_acs_lrcorner())
    }
}
