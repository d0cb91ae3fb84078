// CReadline: GNU readline's callback interface for Swift, set up to edit a line inside a curses
// screen: readline never touches the terminal (no prep/deprep, no signals, no environment), reads
// bytes the UI hands it and lets the UI draw the line. Swift cannot read or write readline's
// globals, so they are wrapped here.
#ifndef SIROCCO_CREADLINE_SHIM_H
#define SIROCCO_CREADLINE_SHIM_H

#include <stdio.h>
#include <stdlib.h>
#include <readline/readline.h>
#include <readline/history.h>

/// Configures readline for use inside curses; output goes to `out` (e.g. /dev/null).
static inline void sh_rl_configure(FILE *out, rl_getc_func_t *getc, rl_hook_func_t *available,
                                   rl_voidfunc_t *redisplay) {
    rl_readline_name = "sirocco";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_instream = NULL;
    rl_outstream = out;
    rl_getc_function = getc;
    rl_input_available_hook = available;
    rl_redisplay_function = redisplay;
    rl_inhibit_completion = 1;
}

/// History entries carry timestamps in the file ('#' lines), which is what lets readline read a
/// multi-line entry (a pasted message) back as one entry.
static inline void sh_history_keep_multiline(void) {
    history_comment_char = '#';
    history_write_timestamps = 1;
}

static inline const char *sh_rl_line_buffer(void) { return rl_line_buffer ? rl_line_buffer : ""; }
static inline int sh_rl_point(void) { return rl_point; }
static inline int sh_rl_end(void) { return rl_end; }
static inline const char *sh_rl_executing_keyseq(void) { return rl_executing_keyseq; }
static inline int sh_rl_key_sequence_length(void) { return rl_key_sequence_length; }
static inline void sh_rl_set_done(int d) { rl_done = d; }
/// Replaces the whole line and puts the cursor at its end.
static inline void sh_rl_set_line(const char *text) {
    rl_replace_line(text, 0);
    rl_point = rl_end;
}

#endif
