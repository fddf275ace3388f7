"""Shared helpers every stage may use, importing no stage: text normalisation (Persian letters and digits),
the controlled vocabularies, dates, unit constants, safe YAML, atomic file writing, the output folder's
file-system primitives, small geometry helpers and the lazy package faces.

Flows in: nothing from the stages. Flows out: helpers to every stage, the scenario and the checks.
"""
