"""Turns a packaged SAM template into the plain CloudFormation template Service Catalog launches.

Service Catalog refuses templates that need CAPABILITY_AUTO_EXPAND, so the SAM transform is
expanded here, offline, by the same expansion the local deploy uses (localaws.sam_transform). The
input must be packaged (`sam package`): every code location an s3:// URI. Usage:
    python -m scripts.product_template PACKAGED.yaml OUTPUT.json REGION
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from localaws import templates
from localaws.sam_transform import expand


def main(argv: list[str]) -> None:
    source, target, region = Path(argv[0]), Path(argv[1]), argv[2]
    expanded = expand(templates.parse(source.read_text(encoding="utf-8")), region)
    target.write_text(json.dumps(expanded, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}: {len(expanded['Resources'])} resources, no Transform")


if __name__ == "__main__":
    main(sys.argv[1:])
