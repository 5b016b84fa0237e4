"""Uploads the product template and prints the https URL Service Catalog's portfolio needs.

Usage: python -m scripts.upload FILE BUCKET KEY
"""

from __future__ import annotations

import sys

import boto3


def main(path: str, bucket: str, key: str) -> None:
    s3 = boto3.client("s3")
    s3.upload_file(path, bucket, key)
    # S3 answers None for us-east-1, which the stubs' type leaves out.
    location: str | None = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    region = location or "us-east-1"
    print(f"ProductTemplateUrl=https://{bucket}.s3.{region}.amazonaws.com/{key}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
