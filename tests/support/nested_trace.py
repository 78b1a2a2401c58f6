"""A JSON Lines trace, as dicts, with every nested shape of the event contract (docs/reference/jsonl.md)."""

from __future__ import annotations

from typing import Any

#: A trace with every nested shape of the contract: a peer address, sigactions, a wait status, a
#: siginfo (signal and waitid), clone flags, poll, select and epoll arrays, futex ops, an argv.
NESTED: list[dict[str, Any]] = [
    {"seq": 1, "pid": 10, "tid": 10, "role": "main", "type": "exec", "filename": "/bin/srv", "argv": ["srv", "-p"]},
    {
        "seq": 3,
        "pid": 10,
        "tid": 10,
        "role": "main",
        "type": "syscall",
        "name": "rt_sigaction",
        "args": {
            "signal": "SIGCHLD",
            "act": {
                "handler": "0x401000",
                "flags": ["SA_RESTORER", "SA_RESTART"],
                "mask": ["SIGCHLD"],
                "restorer": "0x7f0",
            },
            "sigsetsize": 8,
            "oldact": {"handler": "SIG_DFL", "flags": [], "mask": [], "restorer": None},
        },
        "ret": 0,
        "errno": None,
        "enter_seq": 2,
    },
    {
        "seq": 5,
        "pid": 10,
        "tid": 10,
        "role": "main",
        "type": "syscall",
        "name": "accept4",
        "args": {
            "fd": 3,
            "flags": ["SOCK_CLOEXEC"],
            "addr": {"family": "AF_INET", "port": 40000, "address": "127.0.0.1"},
            "addrlen": 16,
        },
        "ret": 4,
        "errno": None,
        "enter_seq": 4,
    },
    {"seq": 7, "pid": 10, "tid": 10, "role": "main", "type": "spawn", "child_pid": 11, "child_tid": 11}
    | {"child_role": "main.1", "via": "clone", "thread": False},
    {
        "seq": 8,
        "pid": 10,
        "tid": 10,
        "role": "main",
        "type": "syscall",
        "name": "clone",
        "args": {"flags": ["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"], "exit_signal": "SIGCHLD"},
        "ret": 11,
        "errno": None,
        "enter_seq": 6,
    },
    {"seq": 9, "pid": 10, "tid": 10, "role": "main", "type": "syscall", "name": "close", "args": {"fd": 4}}
    | {"ret": 0, "errno": None, "enter_seq": 8},
    {"seq": 11, "pid": 11, "tid": 11, "role": "main.1", "type": "syscall", "name": "poll"}
    | {"args": {"fds": [{"fd": 4, "events": ["POLLIN"]}], "nfds": 1, "timeout": -1}}
    | {"ret": 1, "errno": None, "enter_seq": 10},
    {"seq": 13, "pid": 11, "tid": 11, "role": "main.1", "type": "syscall", "name": "select"}
    | {"args": {"nfds": 5, "readfds": [4], "writefds": None, "exceptfds": None, "timeout": None}}
    | {"ret": 1, "errno": None, "enter_seq": 12},
    {"seq": 15, "pid": 11, "tid": 11, "role": "main.1", "type": "syscall", "name": "epoll_wait"}
    | {"args": {"epfd": 5, "maxevents": 8, "timeout": -1, "events": [{"events": ["EPOLLIN"], "data": 4}]}}
    | {"ret": 1, "errno": None, "enter_seq": 14},
    {"seq": 17, "pid": 11, "tid": 11, "role": "main.1", "type": "syscall", "name": "futex"}
    | {"args": {"uaddr": "0x7f1", "op": ["FUTEX_WAKE_PRIVATE"], "val": 1}, "ret": 0, "errno": None, "enter_seq": 16},
    {"seq": 19, "pid": 11, "tid": 11, "role": "main.1", "type": "syscall", "name": "exit_group"}
    | {"args": {"status": 3}, "ret": None, "errno": None, "enter_seq": 18},
    {"seq": 20, "pid": 11, "tid": 11, "role": "main.1", "type": "exit", "code": 3},
    {"seq": 21, "pid": 10, "tid": 10, "role": "main", "type": "signal", "name": "SIGCHLD", "syscall": "wait4"}
    | {"siginfo": {"si_signo": "SIGCHLD", "si_code": "CLD_EXITED", "si_pid": 11, "si_uid": 0, "si_status": 3}},
    {"seq": 23, "pid": 10, "tid": 10, "role": "main", "type": "syscall", "name": "wait4"}
    | {"args": {"pid": -1, "options": ["WNOHANG"], "status": {"exited": 3}}, "ret": 11, "errno": None}
    | {"enter_seq": 22},
    {"seq": 25, "pid": 10, "tid": 10, "role": "main", "type": "syscall", "name": "waitid"}
    | {
        "args": {
            "idtype": "P_ALL",
            "id": 0,
            "options": ["WEXITED"],
            "infop": {
                "si_signo": "SIGCHLD",
                "si_code": "CLD_KILLED",
                "si_pid": 12,
                "si_uid": 0,
                "si_status": "SIGKILL",
            },
        }
    }
    | {"ret": -10, "errno": "ECHILD", "enter_seq": 24},
    {"seq": 27, "pid": 10, "tid": 10, "role": "main", "type": "syscall", "name": "kill"}
    | {"args": {"pid": 11, "signal": "SIGTERM"}, "ret": -3, "errno": "ESRCH", "enter_seq": 26},
    {"seq": 29, "pid": 10, "tid": 10, "role": "main", "type": "syscall", "name": "getsockopt"}
    | {"args": {"fd": 3, "level": 1, "optname": 4, "optval": 140000, "optlen": 140008}}
    | {"ret": 0, "errno": None, "enter_seq": 28},
    {"seq": 31, "pid": 10, "tid": 10, "role": "main", "type": "exit", "code": 0},
]
