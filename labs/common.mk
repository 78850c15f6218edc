# Shared by every lab's Makefile: the flags the grader compiles with, and the
# student's loop.  A lab's Makefile lists its BINARIES and their sources,
# then includes this file.
CC      = gcc
CFLAGS  = -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -O0 -g
ROOT   := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)

all: $(BINARIES)

$(BINARIES):
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

# The public cases of this lab, graded as root in a throwaway VM.
check:
	$(ROOT)/bin/moulinette check

clean:
	rm -f $(BINARIES) *.o

.PHONY: all check clean
