"""Consumer test of the Python package: a CrossRegionParameterReplicator with per-region overrides.

It exercises the jsii mappings a Python user meets with the parameter replicator: a static factory
with a struct of options (ParameterSelection.from_paths), a class with static factories in a list
(ParameterOverride), a list of structs (replica_kms_keys), an enum-like class (ConflictPolicy), an
aws-cdk-lib enum (ParameterTier), the same overrides given to a ConfigDriftDetector, and the metric
methods with their options.
"""
import json

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from cdk_cross_region_config import (
    ConfigDriftDetector,
    ConflictPolicy,
    CrossRegionParameterReplicator,
    ParameterOverride,
    ParameterSelection,
    ReplicaKmsKey,
)


def build():
    app = cdk.App()
    stack = cdk.Stack(app, "Parameters", env=cdk.Environment(account="111122223333", region="us-east-1"))
    overrides = [
        ParameterOverride.template("/payments/production/api-endpoint", "https://api.{region}.example.com"),
        ParameterOverride.for_region("/payments/production/ami", "eu-west-1", "ami-0123456789abcdef0"),
    ]
    replicator = CrossRegionParameterReplicator(
        stack,
        "Replicator",
        # A struct argument of a static method arrives as keyword arguments.
        parameters=ParameterSelection.from_paths(["/payments/production"], excluded_paths=["/payments/production/local"]),
        replica_regions=["eu-west-1", "ap-southeast-2"],
        replica_kms_keys=[ReplicaKmsKey(region="eu-west-1", alias_name="alias/parameters")],
        replica_tier=ssm.ParameterTier.ADVANCED,
        overrides=overrides,
        conflict_policy=ConflictPolicy.SKIP_AND_ALARM,
        parameter_prefix="/payments/production",
    )
    ConfigDriftDetector(
        stack, "Drift", replica_regions=["eu-west-1", "ap-southeast-2"], parameter_paths=["/payments/production"],
        parameter_overrides=overrides,
    )
    return stack, replicator, Template.from_stack(stack)


def environment(template, description_part):
    functions = template.find_resources("AWS::Lambda::Function")
    for fn in functions.values():
        if description_part in fn["Properties"]["Description"]:
            return fn["Properties"]["Environment"]["Variables"]
    raise AssertionError(f"no function described with {description_part!r}")


def test_synthesizes_the_replicator_with_its_rule_targets_and_overrides():
    stack, replicator, template = build()
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.ssm"], "detail-type": ["Parameter Store Change"]},
    })
    template.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/payments/production/global/secrets/parameter-replication-config",
    })
    env = environment(template, "Parameter Store parameters")
    assert json.loads(env["REPLICA_TARGETS"]) == [
        {"region": "eu-west-1", "kmsKeyId": "alias/parameters", "tier": "Advanced"},
        {"region": "ap-southeast-2", "tier": "Advanced"},
    ]
    assert json.loads(env["PARAMETER_SELECTION"]) == {
        "paths": ["/payments/production"], "excludedPaths": ["/payments/production/local"],
    }
    assert env["CONFLICT_POLICY"] == "SKIP_AND_ALARM"
    assert {(o["name"], o["region"]) for o in json.loads(env["PARAMETER_OVERRIDES"])} == {
        ("/payments/production/api-endpoint", "eu-west-1"),
        ("/payments/production/api-endpoint", "ap-southeast-2"),
        ("/payments/production/ami", "eu-west-1"),
    }
    assert replicator.conflicts_alarm is not None
    assert len(replicator.alarms) == 6


def test_the_drift_detector_expects_the_same_overrides():
    _, _, template = build()
    env = environment(template, "Detects configuration drift")
    assert json.loads(env["PARAMETER_OVERRIDES"])[0] == {
        "name": "/payments/production/api-endpoint", "region": "eu-west-1", "value": "https://api.eu-west-1.example.com",
    }


def test_metrics_take_their_options():
    stack, replicator, _ = build()
    metric = replicator.metric_replication_failures(replica_region="eu-west-1")
    assert metric.metric_name == "ReplicationFailures"
    assert metric.dimensions["ReplicaRegion"] == "eu-west-1"
    assert replicator.metric_throttled_requests().metric_name == "ThrottledRequests"
