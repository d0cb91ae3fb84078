#include "TerminalRescue.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_modes;
static volatile sig_atomic_t terminal_taken = 0;

void tr_save_tty_modes(void) { tcgetattr(0, &saved_modes); }

void tr_set_terminal_taken(int taken) { terminal_taken = taken; }

static void crash_handler(int sig) {
    if (terminal_taken) {
        static const char reset[] = "\033[0m\033[?25h\033[?2004l\033[?1049l\r\n";
        terminal_taken = 0;
        tcsetattr(0, TCSANOW, &saved_modes);
        ssize_t ignored = write(1, reset, sizeof reset - 1);
        (void)ignored;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void tr_install_crash_handlers(void) {
    static const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = crash_handler;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &action, NULL);
}

void *tr_alt_stack_begin(void) {
    stack_t stack;
    stack.ss_size = 64 * 1024;
    stack.ss_sp = malloc(stack.ss_size);
    stack.ss_flags = 0;
    if (stack.ss_sp == NULL) return NULL;
    if (sigaltstack(&stack, NULL) != 0) {
        free(stack.ss_sp);
        return NULL;
    }
    return stack.ss_sp;
}

void tr_alt_stack_end(void *memory) {
    if (memory == NULL) return;
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, NULL);
    free(memory);
}
