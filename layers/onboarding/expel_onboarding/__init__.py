"""Onboarding an AWS Control Tower organization trail to Expel Workbench.

One module per step of Expel's Control Tower guide (discovery, ownership, key policy, notification,
verify). Each has pure functions for the document work and one thin function that does the I/O, taking its boto3 client
as a parameter.
"""
