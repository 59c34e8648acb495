"""Consumer test of the Python package: a ConfigDriftDetector next to the replicator.

It exercises the jsii mappings a Python user meets with the detector: a construct passed as a prop,
static factories (DriftIgnoreRule, KubernetesCluster), an enum (DriftRemediation), a list of structs
(configMaps) and the metric methods with their options.
"""
import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk.assertions import Match, Template

from cdk_cross_region_config import (
    ConfigDriftDetector,
    ConfigMapDriftScope,
    CrossRegionSecretReplicator,
    DriftIgnoreRule,
    DriftRemediation,
    DriftResourceType,
    KubernetesCluster,
    SecretSelection,
)


def build():
    app = cdk.App()
    stack = cdk.Stack(app, "Drift", env=cdk.Environment(account="111122223333", region="us-east-1"))
    replicator = CrossRegionSecretReplicator(
        stack, "Replicator", secrets=SecretSelection.by_name_prefix("prod/"), replica_regions=["eu-west-1"],
    )
    detector = ConfigDriftDetector(
        stack,
        "DriftDetector",
        replicator=replicator,
        parameter_paths=["/payments/production"],
        config_maps=[ConfigMapDriftScope(
            primary_cluster=KubernetesCluster.from_cluster_attributes(cluster_name="payments-us", region="us-east-1"),
            replica_clusters=[KubernetesCluster.from_cluster_attributes(cluster_name="payments-eu", region="eu-west-1")],
            names=["payments-config"],
        )],
        ignore_rules=[
            DriftIgnoreRule.parameters("/payments/production/regional/**"),
            DriftIgnoreRule.config_map_keys("default/payments-config", "region"),
        ],
        auto_remediation=DriftRemediation.DRY_RUN,
        schedule=events.Schedule.rate(cdk.Duration.minutes(30)),
        parameter_prefix="/payments/production",
    )
    return stack, detector, Template.from_stack(stack)


def test_synthesizes_the_detector_with_its_schedule_bucket_and_alarm():
    stack, detector, template = build()
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(30 minutes)"})
    template.resource_count_is("AWS::S3::Bucket", 1)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "DriftCount", "Namespace": "CrossRegionConfig/ConfigurationDrift", "Period": 1800,
    })
    template.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/payments/production/global/secrets/drift-detection-config",
    })
    template.has_resource_properties("AWS::Lambda::Function", {
        "Timeout": 900,
        "Environment": {"Variables": Match.object_like({"REMEDIATION_MODE": "DRY_RUN"})},
    })
    assert detector.resource_types == [DriftResourceType.SECRET, DriftResourceType.PARAMETER, DriftResourceType.CONFIGMAP]
    assert detector.replica_regions == ["eu-west-1"]
    assert len(detector.cluster_access_commands) == 2
    assert "aws eks create-access-entry --cluster-name payments-eu" in "\n".join(detector.cluster_access_commands)


def test_metric_methods_take_their_options():
    stack, detector, _ = build()
    metric = detector.metric_drift_count(replica_region="eu-west-1")
    assert metric.metric_name == "DriftCount"
    assert stack.resolve(metric.dimensions) == {"service": detector.service_name, "ReplicaRegion": "eu-west-1"}
    by_type = detector.metric_has_drift(resource_type=DriftResourceType.CONFIGMAP)
    assert stack.resolve(by_type.dimensions) == {"service": detector.service_name, "ResourceType": "configmap"}
