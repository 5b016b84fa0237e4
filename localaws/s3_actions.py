"""S3 requests as the IAM actions that authorize them, for the emulated service control policies."""

from __future__ import annotations

from urllib.parse import parse_qs

# S3 API operations to the IAM actions that authorize them (S3 user guide, "Required permissions for
# Amazon S3 API operations"), by level (bucket or object), HTTP method and subresource.
_S3_BUCKET: dict[str, tuple[tuple[str, str], ...]] = {
    "PUT": (
        ("notification", "s3:PutBucketNotification"),
        ("ownershipControls", "s3:PutBucketOwnershipControls"),
        ("policy", "s3:PutBucketPolicy"),
        ("lifecycle", "s3:PutLifecycleConfiguration"),
        ("logging", "s3:PutBucketLogging"),
        ("encryption", "s3:PutEncryptionConfiguration"),
        ("tagging", "s3:PutBucketTagging"),
        ("versioning", "s3:PutBucketVersioning"),
        ("acl", "s3:PutBucketAcl"),
        ("cors", "s3:PutBucketCORS"),
        ("website", "s3:PutBucketWebsite"),
        ("publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("replication", "s3:PutReplicationConfiguration"),
        ("object-lock", "s3:PutBucketObjectLockConfiguration"),
        ("accelerate", "s3:PutAccelerateConfiguration"),
        ("requestPayment", "s3:PutBucketRequestPayment"),
        ("inventory", "s3:PutInventoryConfiguration"),
        ("intelligent-tiering", "s3:PutIntelligentTieringConfiguration"),
        ("metrics", "s3:PutMetricsConfiguration"),
        ("analytics", "s3:PutAnalyticsConfiguration"),
        ("", "s3:CreateBucket"),
    ),
    "DELETE": (
        ("ownershipControls", "s3:PutBucketOwnershipControls"),
        ("policy", "s3:DeleteBucketPolicy"),
        ("lifecycle", "s3:PutLifecycleConfiguration"),
        ("encryption", "s3:PutEncryptionConfiguration"),
        ("tagging", "s3:PutBucketTagging"),
        ("cors", "s3:PutBucketCORS"),
        ("website", "s3:DeleteBucketWebsite"),
        ("publicAccessBlock", "s3:PutBucketPublicAccessBlock"),
        ("replication", "s3:PutReplicationConfiguration"),
        ("inventory", "s3:PutInventoryConfiguration"),
        ("intelligent-tiering", "s3:PutIntelligentTieringConfiguration"),
        ("metrics", "s3:PutMetricsConfiguration"),
        ("analytics", "s3:PutAnalyticsConfiguration"),
        ("", "s3:DeleteBucket"),
    ),
    "GET": (
        ("notification", "s3:GetBucketNotification"),
        ("ownershipControls", "s3:GetBucketOwnershipControls"),
        ("policyStatus", "s3:GetBucketPolicyStatus"),
        ("policy", "s3:GetBucketPolicy"),
        ("lifecycle", "s3:GetLifecycleConfiguration"),
        ("logging", "s3:GetBucketLogging"),
        ("encryption", "s3:GetEncryptionConfiguration"),
        ("tagging", "s3:GetBucketTagging"),
        ("versioning", "s3:GetBucketVersioning"),
        ("acl", "s3:GetBucketAcl"),
        ("cors", "s3:GetBucketCORS"),
        ("website", "s3:GetBucketWebsite"),
        ("publicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("replication", "s3:GetReplicationConfiguration"),
        ("object-lock", "s3:GetBucketObjectLockConfiguration"),
        ("location", "s3:GetBucketLocation"),
        ("versions", "s3:ListBucketVersions"),
        ("uploads", "s3:ListBucketMultipartUploads"),
        ("", "s3:ListBucket"),
    ),
    "HEAD": (("", "s3:ListBucket"),),
    "POST": (("delete", "s3:DeleteObject"), ("", "s3:PutObject")),
}
_S3_OBJECT: dict[str, tuple[tuple[str, str], ...]] = {
    "PUT": (
        ("tagging", "s3:PutObjectTagging"),
        ("acl", "s3:PutObjectAcl"),
        ("retention", "s3:PutObjectRetention"),
        ("legal-hold", "s3:PutObjectLegalHold"),
        ("", "s3:PutObject"),
    ),
    "GET": (
        ("tagging", "s3:GetObjectTagging"),
        ("acl", "s3:GetObjectAcl"),
        ("attributes", "s3:GetObjectAttributes"),
        ("uploadId", "s3:ListMultipartUploadParts"),
        ("", "s3:GetObject"),
    ),
    "HEAD": (("", "s3:GetObject"),),
    "DELETE": (
        ("tagging", "s3:DeleteObjectTagging"),
        ("uploadId", "s3:AbortMultipartUpload"),
        ("versionId", "s3:DeleteObjectVersion"),
        ("", "s3:DeleteObject"),
    ),
    "POST": (("restore", "s3:RestoreObject"), ("select", "s3:GetObject"), ("", "s3:PutObject")),
}


def s3_action(method: str, resource: str, query: str) -> str | None:
    """The IAM action of an S3 request, from its method, its resource (bucket or object) and its query."""
    is_object = "/" in resource.split(":::", 1)[-1]
    table = (_S3_OBJECT if is_object else _S3_BUCKET).get(method.upper(), ())
    present = parse_qs(query, keep_blank_values=True)
    return next((action for subresource, action in table if not subresource or subresource in present), None)
