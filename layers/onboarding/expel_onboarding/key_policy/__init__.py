"""Step 2 of Expel's Control Tower guide: one kms:Decrypt statement of ours in the CloudTrail key's policy.

The key lives in the management account and its policy belongs to whoever runs the organization
trail. We edit the policy's TEXT, not a parsed copy of it: our statement is spliced into the
Statement array in the array's own style and cut out again the same way, so every other character
stays as its owners wrote it and removal gives back the text we found, byte for byte. The statement
names the Log Archive account root as principal and narrows it with aws:PrincipalArn, so it is valid
before the Expel role exists and survives the role's re-creation.

- statement: our statement, its target and KMS's limits;
- text: the policy's text, parsed into statements, and each edit of it, checked;
- kms: reading and writing it in the key's own account (the step's converge, and its preflight);
- manual: what a person runs by hand in the key's account;
- delegated (imported by name: the management account's delegate never needs it): the Log Archive side of a
  key in another account, through the delegate.
"""

from expel_onboarding.key_policy.kms import (
    Preview,
    check_usable,
    check_writable,
    converge,
    preview,
    read_text,
)
from expel_onboarding.key_policy.manual import action_required, manual_command, not_encrypted, refused
from expel_onboarding.key_policy.statement import (
    MAX_POLICY_BYTES,
    MAX_WRITES,
    POLICY_NAME,
    STEP,
    Policy,
    Statement,
    Target,
    key_account,
    orphaned_principals,
    our_statement,
    size,
    statements_of,
)
from expel_onboarding.key_policy.text import (
    Edit,
    PolicyText,
    apply_text,
    check_identifiable,
    check_unambiguous,
    converged,
    edit_for,
    parse,
    remove_text,
    with_statement,
    without_statement,
)

__all__ = [
    "MAX_POLICY_BYTES",
    "MAX_WRITES",
    "POLICY_NAME",
    "STEP",
    "Edit",
    "Policy",
    "PolicyText",
    "Preview",
    "Statement",
    "Target",
    "action_required",
    "apply_text",
    "check_identifiable",
    "check_unambiguous",
    "check_usable",
    "check_writable",
    "converge",
    "converged",
    "edit_for",
    "key_account",
    "manual_command",
    "not_encrypted",
    "orphaned_principals",
    "our_statement",
    "parse",
    "preview",
    "read_text",
    "refused",
    "remove_text",
    "size",
    "statements_of",
    "with_statement",
    "without_statement",
]
