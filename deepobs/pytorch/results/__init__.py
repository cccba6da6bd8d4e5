"""The results-file contract: names, writing, reading and the selection protocol.

Importable without pandas. One home for everything about a results file:

* :mod:`.naming` — setting folders and file names.
* :mod:`.write` — assembling a result and the one atomic, exclusive-create writer.
* :mod:`.read` — the DeepOBS 1.1 / 1.2 / current formats read into one ``Run`` record.
* :mod:`.select` — the DeepOBS selection protocol, used by both analyzer and tuner.
"""
