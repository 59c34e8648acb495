"""Consumer test of the Python package: synthesizes app.py in-process and checks the template.

This runs the wheel built by jsii-pacmak (through the jsii runtime's Node.js child process), so it
proves that the Python bindings, the struct and enum-like class mappings and the bundled Lambda
asset inside the package work for a Python user.
"""
import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from app import PARAMETER_PREFIX, PRIMARY_REGION, REPLICA_REGIONS, build_app
from cdk_cross_region_config import CrossRegionSecretReplicator, SecretSelection

ALARM_COUNT = 6  # errors, throttles, dead letters, replication failures, conflicts (SKIP_AND_ALARM), full-sync age


@pytest.fixture(scope="module")
def synthesized():
    _, stack = build_app()
    return stack, Template.from_stack(stack)


def logical_id(stack: cdk.Stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def test_creates_the_handler_with_the_documented_defaults(synthesized):
    stack, template = synthesized
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties("AWS::Lambda::Function", {
        "Runtime": "nodejs22.x",
        "Architectures": ["arm64"],
        "MemorySize": 512,
        "Timeout": 600,  # seconds: Duration.minutes(10)
        "TracingConfig": {"Mode": "Active"},
        "Environment": {"Variables": Match.object_like({
            "PRIMARY_REGION": PRIMARY_REGION,
            "CONFLICT_POLICY": "SKIP_AND_ALARM",
        })},
    })
    replicator = stack.replicator
    assert replicator.primary_region == PRIMARY_REGION
    assert logical_id(stack, replicator.handler).startswith("SecretReplicatorHandler")


def test_sends_secret_changes_under_the_prefix_to_the_handler(synthesized):
    stack, template = synthesized
    handler_id = logical_id(stack, stack.replicator.handler)
    rule_id = logical_id(stack, stack.replicator.rule)
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": Match.object_like({
            "source": ["aws.secretsmanager"],
            "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"],
        }),
        "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [handler_id, "Arn"]}})],
    })
    # The rule is narrowed to the selected name prefix.
    pattern = template.to_json()["Resources"][rule_id]["Properties"]["EventPattern"]
    assert {"prefix": "prod/app/"} in pattern["detail"]["$or"][0]["requestParameters"]["secretId"]


def test_reconciles_every_six_hours(synthesized):
    stack, template = synthesized
    template.has_resource_properties("AWS::Events::Rule", {
        "ScheduleExpression": "rate(6 hours)",
        "Targets": [Match.object_like({
            "Arn": {"Fn::GetAtt": [logical_id(stack, stack.replicator.handler), "Arn"]},
            "Input": '{"action":"reconcile"}',
        })],
    })
    template.resource_count_is("AWS::Events::Rule", 2)


def test_dead_letters_failed_events_to_an_encrypted_queue(synthesized):
    stack, template = synthesized
    queue_id = logical_id(stack, stack.replicator.dead_letter_queue)
    template.resource_count_is("AWS::SQS::Queue", 1)
    template.has_resource_properties("AWS::SQS::Queue", {
        "MessageRetentionPeriod": 1209600,  # 14 days, in seconds
        "SqsManagedSseEnabled": True,
    })
    template.has_resource_properties("AWS::Lambda::Function", {
        "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}},
    })


def test_every_alarm_notifies_the_topic(synthesized):
    stack, template = synthesized
    topic_ref = {"Ref": logical_id(stack, stack.alarm_topic)}
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == ALARM_COUNT
    assert len(stack.replicator.alarms) == ALARM_COUNT
    for alarm_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [topic_ref], alarm_id


def test_alarms_on_conflicts_with_skip_and_alarm(synthesized):
    stack, template = synthesized
    assert stack.replicator.conflicts_alarm is not None
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "Conflicts",
        "Namespace": "CrossRegionConfig",
        "Statistic": "Sum",
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Dimensions": [{"Name": "service", "Value": stack.replicator.service_name}],
    })


def test_publishes_the_settings_parameter(synthesized):
    stack, template = synthesized
    parameter_id = logical_id(stack, stack.replicator.config_parameter)
    parameter = template.to_json()["Resources"][parameter_id]["Properties"]
    assert parameter["Name"] == f"{PARAMETER_PREFIX}/global/secrets/cross-region-config"
    assert parameter["Type"] == "String"
    assert json.loads(parameter["Value"]) == {
        "primaryRegion": PRIMARY_REGION,
        "replicationRegions": REPLICA_REGIONS,
        "syncEnabled": True,
        "driftDetectionEnabled": False,
        "configMapSyncEnabled": False,
        "lastSyncTimestamp": None,
        "conflictPolicy": "SKIP_AND_ALARM",
        "propagateDeletions": False,
        "reconciliationSchedule": "rate(6 hours)",
    }


def test_scopes_the_replica_key_by_alias(synthesized):
    _, template = synthesized
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert '"kms:ResourceAliases": "alias/prod-secrets"' in policies


def test_metric_replication_latency_per_region(synthesized):
    stack, _ = synthesized
    metric = stack.replicator.metric_replication_latency(replica_region="eu-west-1")
    assert metric.metric_name == "ReplicationLatency"
    assert metric.namespace == "CrossRegionConfig"
    assert metric.statistic == "p99"
    assert metric.dimensions == {"service": stack.replicator.service_name, "ReplicaRegion": "eu-west-1"}


def test_synthesizes_without_warnings_or_errors(synthesized):
    stack, _ = synthesized
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning("*", Match.any_value()) == []
    assert annotations.find_error("*", Match.any_value()) == []


def test_fails_if_replica_regions_contains_the_primary_region():
    stack = cdk.Stack(cdk.App(), "Primary", env=cdk.Environment(region=PRIMARY_REGION))
    with pytest.raises(RuntimeError) as raised:
        CrossRegionSecretReplicator(
            stack,
            "Replicator",
            secrets=SecretSelection.by_name_prefix("prod/app/"),
            replica_regions=["eu-west-1", "us-east-1"],
        )
    assert str(raised.value) == 'Primary/Replicator: replicaRegions must not contain the primary region, but got ["eu-west-1","us-east-1"]'
