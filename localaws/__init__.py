"""A local AWS for the demo and the end-to-end tests: moto's server, with the gaps filled.

Every change to moto's behaviour lives in patches.py, each naming the gap it covers. Nothing in
the product knows about it.
"""
