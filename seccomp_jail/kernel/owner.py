"""The fcntl and ioctl commands that make a file signal a process, and TIOCSTI.

Defined once for the two places that must agree on them: the filter sends
these commands to the tracer (policy.compile), which checks their target
(tracer.loop). Linux values, the same on every architecture we build.
"""

F_SETOWN, F_SETOWN_EX = 8, 15  # fcntl: the pid (or -pgid) as argument; a struct f_owner_ex *
F_OWNER_PGRP = 2  # f_owner_ex.type: a process group (F_OWNER_TID 0, F_OWNER_PID 1: an id)
OWNER_FCNTLS = (F_SETOWN, F_SETOWN_EX)
TIOCSPGRP = 0x5410  # a process group, as a positive number
OWNER_IOCTLS = (0x8901, 0x8902, TIOCSPGRP)  # FIOSETOWN, SIOCSPGRP, TIOCSPGRP: an int * argument
TIOCSTI = 0x5412  # push a byte into a terminal's input
