#!/usr/bin/env python3
"""Creates the DynamoDB table, the SQS sync queue and the API key pepper secret of template.yaml in a local AWS emulator (moto), for
running the Lambda mains with `cargo lambda watch` (README, "Run the Lambdas locally"). In AWS the SAM
template creates both; this reads the table's definition (keys, the `due` and `by_date` indexes, TTL on
`ttl`) from template.yaml itself, so the local table cannot drift from the deployed one.

    .venv/bin/python scripts/local-aws.py --endpoint http://127.0.0.1:5055 --table sphere-local --queue sync

Needs boto3 and PyYAML (both in the .venv that scripts/test.sh sets up). Prints the queue URL.
"""
import argparse
import os
import secrets
import sys

import boto3
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !If, !GetAtt, …), kept as plain values."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_CfnLoader.add_multi_constructor("!", _any_tag)


def table_definition(template_path):
    with open(template_path, encoding="utf-8") as f:
        template = yaml.load(f, Loader=_CfnLoader)
    tables = [r for r in template["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        raise SystemExit(f"{template_path}: expected one AWS::DynamoDB::Table, found {len(tables)}")
    return tables[0]["Properties"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5055"))
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "eu-west-1"))
    p.add_argument("--table", default=os.environ.get("TABLE_NAME", "sphere-local"))
    p.add_argument("--queue", default="sync")
    p.add_argument("--template", default=os.path.join(ROOT, "template.yaml"))
    p.add_argument("--pepper", default="sphere-local/api-key-pepper", help="secret holding the API key pepper")
    a = p.parse_args()

    props = table_definition(a.template)
    session = boto3.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=a.region,
    )
    ddb = session.client("dynamodb", endpoint_url=a.endpoint)
    sqs = session.client("sqs", endpoint_url=a.endpoint)

    if a.table in ddb.list_tables()["TableNames"]:
        print(f"table {a.table} exists")
    else:
        ddb.create_table(
            TableName=a.table,
            BillingMode=props["BillingMode"],
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        )
        ddb.get_waiter("table_exists").wait(TableName=a.table)
        ttl = props["TimeToLiveSpecification"]
        ddb.update_time_to_live(
            TableName=a.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
        indexes = ", ".join(i["IndexName"] for i in props["GlobalSecondaryIndexes"])
        print(f"table {a.table} created (indexes {indexes}; TTL on {ttl['AttributeName']})")
    url = sqs.create_queue(QueueName=a.queue)["QueueUrl"]
    print(f"SYNC_QUEUE_URL={url}")
    # The API key pepper connect and tax read at cold start (template.yaml's ApiKeyPepperSecret: 64 random
    # characters, made once and kept).
    sm = session.client("secretsmanager", endpoint_url=a.endpoint)
    try:
        sm.describe_secret(SecretId=a.pepper)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=a.pepper, SecretString=secrets.token_hex(32))
    print(f"API_KEY_PEPPER_SECRET_ID={a.pepper}")


if __name__ == "__main__":
    sys.exit(main())
