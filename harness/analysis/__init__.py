"""The analysis: pure functions from a recorded trace to verdicts and explanations.

Facts about processes (child fates, zombies, descriptors), the one account
of each interrupted call (``interruptions``), the matcher of expectations,
golden stories, explanations and the HTML report.  They read
the model only, so they can be used on a trace saved long ago, without ptrace.
"""
