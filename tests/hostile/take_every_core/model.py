"""Widens its CPU affinity onto every core of the machine and keeps busy workers there, within its
process limit: it would take cores from the grades beside it."""

import multiprocessing
import os
import time


def spin():
    while True:
        pass


def build_model():
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    for _ in range(3):
        multiprocessing.Process(target=spin, daemon=True).start()
    time.sleep(60)
