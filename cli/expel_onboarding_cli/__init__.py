"""expel-onboarding, the command a person runs: plan, check, repair, outputs, freshness and replay.

The operator's package: the wheel installs it beside expel_onboarding, and the Lambda layer does not ship it.
It imports the product (expel_onboarding); the product's functions never import it.
"""
