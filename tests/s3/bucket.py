"""The team store's bucket as an S3 client sees it, for the end-to-end tests.

    python3 bucket.py ENDPOINT create BUCKET
    python3 bucket.py ENDPOINT grep BUCKET NEEDLE   # {"objects": n, "hits": [keys holding NEEDLE]}
"""

import json
import sys

import boto3


def main() -> None:
    endpoint, command, bucket = sys.argv[1:4]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    if command == "create":
        s3.create_bucket(Bucket=bucket)
        return
    if command == "grep":
        needle = sys.argv[4].encode()
        objects, hits = 0, []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                objects += 1
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                if needle in body:
                    hits.append(item["Key"])
        print(json.dumps({"objects": objects, "hits": hits}))
        return
    sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
