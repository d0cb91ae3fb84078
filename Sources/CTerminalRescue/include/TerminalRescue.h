// TerminalRescue: gives the terminal back when the process crashes. Only async-signal-safe calls
// (tcsetattr, write, raise), run on an alternate signal stack so that even a stack overflow leaves
// the user's shell usable: the tty modes saved before curses started, then the escape sequences
// that reset colours, show the cursor, end bracketed paste and leave the alternate screen.
#ifndef SIROCCO_TERMINAL_RESCUE_H
#define SIROCCO_TERMINAL_RESCUE_H

/// Remembers the tty modes to restore; call before curses changes them.
void tr_save_tty_modes(void);

/// Whether a crash must give the terminal back (set while curses owns it).
void tr_set_terminal_taken(int taken);

/// Crash signals (SEGV, BUS, ILL, TRAP, ABRT, FPE) restore the terminal, then kill the process
/// with the same signal; the handler runs on the crashing thread's alternate stack.
void tr_install_crash_handlers(void);

/// Gives the calling thread an alternate signal stack (each thread needs its own); returns it for
/// `tr_alt_stack_end`, or NULL when none could be made.
void *tr_alt_stack_begin(void);

/// Takes the thread's alternate stack away and frees it.
void tr_alt_stack_end(void *stack);

#endif
