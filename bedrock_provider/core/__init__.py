"""Airflow-free logic, in packages by concern that import downwards only (lowest first):

- errors, values, s3, names, lineage: shared by every package;
- catalog: the model catalog, prices and cost estimates;
- datasets: training-data formats, the streaming validator, token counts;
- waiting: states, the wait state machine, backoff, push mode, kill rules;
- metrics: the training metrics, their gate, export and chart;
- request: the customization request, checked before any AWS call, and its submission;
- lifecycle: after training, deploy, evaluate, promote, retire.

tests/unit/test_core_layout.py reads every import and fails on one that points up or sideways.
"""
