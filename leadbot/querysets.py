"""QuerySet behaviour the apps' models share (the sweeps read their candidates this way)."""

from django.db import models


class BatchedQuerySet(models.QuerySet):
    def in_id_batches(self, *fields, batch_size):
        """(pk, *fields) rows in id order, read a batch at a time: memory stays flat."""
        after = 0
        while True:
            batch = list(
                self.filter(pk__gt=after).order_by("pk").values_list("pk", *fields)[:batch_size]
            )
            yield from batch
            if len(batch) < batch_size:
                return
            after = batch[-1][0]
