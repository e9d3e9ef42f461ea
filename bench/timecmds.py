#!/usr/bin/env python3
"""Times commands interleaved (round 1: A B C, round 2: A B C, ...), so
bursts of noise on a shared machine hit every command alike, and prints
the median wall time of each in milliseconds.

    timecmds.py ROUNDS 'label<TAB>arg0<TAB>arg1...' ...
"""
import os
import statistics
import sys
import time


def run(argv):
    devnull = os.open(os.devnull, os.O_WRONLY)
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter_ns() - start
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"timecmds: {' '.join(argv)} failed")
    return elapsed / 1e6


def main():
    rounds = int(sys.argv[1])
    commands = [line.split("\t") for line in sys.argv[2:]]
    for _, *argv in commands:  # warm up the page cache
        for _ in range(3):
            run(argv)
    times = {label: [] for label, *_ in commands}
    for _ in range(rounds):
        for label, *argv in commands:
            times[label].append(run(argv))
    for label, *_ in commands:
        print(f"{label:<52} {statistics.median(times[label]):8.2f}")


main()
