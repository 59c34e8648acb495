#!/usr/bin/env python3
"""A consumer CDK app in Python: replicates the `prod/app/` secrets of us-east-1 to two regions.

It is what a Python user of the cdk-cross-region-config wheel writes, and it is synthesized in-process
by test_app.py. `cdk synth` runs it too (see cdk.json).
"""
import aws_cdk as cdk
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_cross_region_config import (
    ConflictPolicy,
    CrossRegionSecretReplicator,
    ReplicaKmsKey,
    SecretSelection,
)

PRIMARY_REGION = "us-east-1"
REPLICA_REGIONS = ["eu-west-1", "ap-southeast-2"]
ACCOUNT = "111122223333"
PARAMETER_PREFIX = "/payments/production"


class ReplicatedSecretsStack(cdk.Stack):
    """The primary-region stack: the replicator and the topic its alarms notify."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name="Secret replication alarms")

        self.replicator = CrossRegionSecretReplicator(
            self,
            "SecretReplicator",
            secrets=SecretSelection.by_name_prefix("prod/app/"),
            replica_regions=REPLICA_REGIONS,
            # The replicas in Ireland are encrypted with the customer managed key aliased
            # alias/prod-secrets there; Sydney uses the aws/secretsmanager key.
            replica_kms_keys=[ReplicaKmsKey(region="eu-west-1", alias_name="alias/prod-secrets")],
            conflict_policy=ConflictPolicy.SKIP_AND_ALARM,
            parameter_prefix=PARAMETER_PREFIX,
            alarm_actions=[cloudwatch_actions.SnsAction(self.alarm_topic)],
        )


def build_app() -> "tuple[cdk.App, ReplicatedSecretsStack]":
    """Builds the app and returns it with its one stack."""
    app = cdk.App()
    stack = ReplicatedSecretsStack(
        app,
        "ReplicatedSecrets",
        env=cdk.Environment(account=ACCOUNT, region=PRIMARY_REGION),
    )
    return app, stack


if __name__ == "__main__":
    cdk_app, _ = build_app()
    cdk_app.synth()
