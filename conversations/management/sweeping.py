"""What the scheduled sweep commands share: the threshold flag and a run with a progress bar."""

import argparse
import sys
from datetime import timedelta

from tqdm import tqdm


def hours(value):
    """A threshold flag: a positive number of hours."""
    try:
        number = float(value)
    except ValueError:
        number = -1
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of hours, got {value!r}")
    return timedelta(hours=number)


def run_with_progress(command, run, *, count, describe, dry_run):
    """`run(report)` with a tqdm bar on a terminal; a dry run lists each candidate.

    The bar's total costs a counting query, so `count()` is called only on a terminal.
    """
    total = count() if sys.stderr.isatty() else None
    with tqdm(total=total, unit="lead", disable=total is None, file=sys.stderr) as bar:

        def report(candidate, outcome):
            bar.update(1)
            if dry_run:
                with tqdm.external_write_mode():
                    command.stdout.write(describe(candidate))

        return run(report)
