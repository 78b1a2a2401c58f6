"""The model: what a trace and an expectation are, and what the kernel does.

Plain values and pure functions only: events and the trace, roles, the
kernel's facts (signals, errno and restart codes, flag names), the decoders
of syscall arguments, strace-style text, the step language, the expectation
model and the run's scenario.  Nothing here imports ptrace or any other
layer of the package.
"""
