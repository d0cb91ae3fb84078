// CNCursesW: the wide-character ncurses API for Swift. Swift cannot import ncurses' macros
// (COLOR_PAIR, A_*, ACS_*, getmaxyx) nor read its globals (stdscr, COLORS) under Swift 6, so
// they are wrapped here as static inline functions. SwiftPM drops pkg-config's -D flags, so
// the wide-character API is switched on by hand before the header is included.
#ifndef SIROCCO_CNCURSESW_SHIM_H
#define SIROCCO_CNCURSESW_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <signal.h>
#include <ncursesw/ncurses.h>
#include <ncursesw/term.h>

int wcwidth(wchar_t c);
int wcswidth(const wchar_t *s, size_t n);

static inline WINDOW *sh_stdscr(void) { return stdscr; }
static inline int sh_lines(void) { return LINES; }
static inline int sh_cols(void) { return COLS; }
static inline int sh_colors(void) { return COLORS; }
static inline int sh_color_pairs(void) { return COLOR_PAIRS; }
static inline int sh_maxy(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)x; return y; }
static inline int sh_maxx(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)y; return x; }

static inline attr_t sh_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static inline attr_t sh_a_normal(void) { return A_NORMAL; }
static inline attr_t sh_a_bold(void) { return A_BOLD; }
static inline attr_t sh_a_dim(void) { return A_DIM; }
static inline attr_t sh_a_reverse(void) { return A_REVERSE; }
static inline attr_t sh_a_underline(void) { return A_UNDERLINE; }
static inline attr_t sh_a_italic(void) { return A_ITALIC; }

static inline chtype sh_acs_hline(void) { return ACS_HLINE; }
static inline chtype sh_acs_vline(void) { return ACS_VLINE; }
static inline chtype sh_acs_ulcorner(void) { return ACS_ULCORNER; }
static inline chtype sh_acs_urcorner(void) { return ACS_URCORNER; }
static inline chtype sh_acs_llcorner(void) { return ACS_LLCORNER; }
static inline chtype sh_acs_lrcorner(void) { return ACS_LRCORNER; }
static inline chtype sh_acs_ltee(void) { return ACS_LTEE; }
static inline chtype sh_acs_rtee(void) { return ACS_RTEE; }
static inline chtype sh_acs_ckboard(void) { return ACS_CKBOARD; }

static inline int sh_key_resize(void) { return KEY_RESIZE; }

/// The terminfo string capability `name` (e.g. "kf2"), or NULL when the terminal has none.
static inline const char *sh_tigetstr(const char *name) {
    char *s = tigetstr((char *)name);
    if (s == NULL || s == (char *)-1) return NULL;
    return s;
}

/// Whether the locale's character set is UTF-8.
static inline int sh_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (cs[0] == 'U' || cs[0] == 'u') && (cs[1] == 'T' || cs[1] == 't');
}

#endif
