"""Widens the CPU affinity of one of its threads, not its main thread, onto every core of the
machine and keeps that thread busy: an affinity mask belongs to a thread, so a check of the
process's main thread alone would not see it take cores from the grades beside it."""

import os
import threading
import time


def spin():
    os.sched_setaffinity(0, range(os.cpu_count() or 1))  # this thread's mask only
    while True:
        pass


def build_model():
    threading.Thread(target=spin, daemon=True).start()
    time.sleep(60)
