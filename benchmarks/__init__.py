"""Benchmarks: what the Neptune callbacks cost, against upstream, the floor and other trackers.

Run them with ``tox -e bench`` (or ``python -m benchmarks.run`` in an environment with the ``bench`` extra and
Ultralytics 8.4.131); the results go to ``benchmarks/RESULTS.md``.
"""
