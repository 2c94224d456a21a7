"""The fcntl and ioctl commands that make a file signal a process, and TIOCSTI.

Defined once for the two places that must agree on them: the filter sends
these commands to the tracer (policy.compile), which checks their target
(tracer.loop). Linux values, the same on every architecture we build.
"""

F_SETOWN, F_SETOWN_EX = 8, 15  # fcntl: the pid (or -pgid) as argument; a struct f_owner_ex *
F_OWNER_TID = 0  # f_owner_ex.type: a thread
OWNER_FCNTLS = (F_SETOWN, F_SETOWN_EX)
OWNER_IOCTLS = (0x8901, 0x8902, 0x5410)  # FIOSETOWN, SIOCSPGRP, TIOCSPGRP: an int * argument
TIOCSTI = 0x5412  # push a byte into a terminal's input
