"""Real threads released together, each on its own database connection (the race tests)."""

import threading

from django.db import connection


def run_at_once(count, work):
    """Run `work(i)` in `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
