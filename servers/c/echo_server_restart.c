/* echo_server_restart.c - echo_server.c with its SIGCHLD handler installed with SA_RESTART.
 *
 * Usage: echo_server_restart [PORT [CONNECTIONS]], as echo_server.
 *
 * The same program, built from the same source with one flag changed, so
 * that the two traces differ only by what SA_RESTART does.  When a child
 * ends while the parent blocks in accept, the handler still runs (it must),
 * but on the way back the kernel restarts accept instead of failing it:
 * the program never sees EINTR and never prints "accept: Interrupted system
 * call".
 *
 * What the trace shows when a child ends while the parent waits in accept:
 *   rt_sigaction(SIGCHLD, {sa_handler=..., sa_flags=SA_RESTORER|SA_RESTART}, ...)
 *   accept(3, ...) = ? ERESTARTSYS      as without SA_RESTART: the call is interrupted
 *   --- SIGCHLD {si_code=CLD_EXITED, si_pid=CHILD, ...} ---
 *   wait4(-1, NULL, WNOHANG) = CHILD    the handler
 *   wait4(-1, NULL, WNOHANG) = -1 ECHILD (or 0 while other children run)
 *   rt_sigreturn() = 43                 accept's own syscall number on x86_64: the kernel
 *                                       has rewound the call to be entered again
 *   accept(3, ...                       entered again by the kernel, not by the program
 *
 * SIGTERM is unaffected: its handler has no SA_RESTART in either program, so
 * that it can still interrupt accept.
 *
 * Build: cc -Wall -Wextra -Werror -O1 -o echo_server_restart echo_server_restart.c
 * (echo_server.c must be in the same directory.)
 */
#define ECHO_SA_FLAGS SA_RESTART
#include "echo_server.c"
