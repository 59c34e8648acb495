"""Consumer test of the Python package: a MultiRegionPipeline whose application is a Python class.

It exercises what a Python user meets with the pipeline: a behavioural interface implemented in
Python (IRegionalStageFactory, called back from the jsii runtime once per region and slot), static
factories taking structs as keyword arguments (PipelineSource, DeploymentStrategy, TrafficSwitch,
HealthCheck), an enum passed back to Python (DeploymentSlot) and a three-region blue-green rollout.
"""
import json

import aws_cdk as cdk
import jsii
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from cdk_cross_region_config import (
    DeploymentSlot,
    DeploymentStrategy,
    HealthCheck,
    IRegionalStageFactory,
    MultiRegionPipeline,
    PipelineSource,
    TrafficSwitch,
)

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@jsii.implements(IRegionalStageFactory)
class ServiceStages:
    """Creates one stage per region and slot, each with a stack holding a version parameter."""

    def __init__(self):
        self.calls = []

    def create_stage(self, scope, id, context):
        self.calls.append((id, context.region, context.slot, context.is_primary))
        stage = cdk.Stage(scope, id, env=cdk.Environment(account=context.account, region=context.region))
        stack = cdk.Stack(stage, "Service")
        ssm.StringParameter(stack, "Version", string_value=f"{context.region}/{context.slot.value}")
        return stage


def build():
    app = cdk.App()
    stack = cdk.Stack(app, "Pipeline", env=cdk.Environment(account="111122223333", region=REGIONS[0]))
    zone = route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id="Z0123456789ABCDEFGHIJ", zone_name="example.com")
    factory = ServiceStages()
    pipeline = MultiRegionPipeline(
        stack,
        "Pipeline",
        source=PipelineSource.connection(
            connection_arn="arn:aws:codeconnections:us-east-1:111122223333:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
            owner="my-org",
            repository="payments",
            branch="main",
        ),
        application=factory,
        replica_regions=REGIONS[1:],
        strategy=DeploymentStrategy.blue_green(
            traffic_switch=TrafficSwitch.route53_weighted_records(hosted_zone=zone, record_name="api.{region}.example.com"),
        ),
        health_checks=[HealthCheck.http("https://{slot}.api.{region}.example.com/health", consecutive_successes=3)],
        bake_alarm_names=["payments-{region}-{slot}-5xx"],
        parameter_prefix="/payments/production",
    )
    return factory, pipeline, Template.from_stack(stack)


def test_the_python_factory_is_called_for_each_region_and_slot():
    factory, _, _ = build()
    assert [(c[0], c[2]) for c in factory.calls] == [
        (f"{r}-{slot}", s) for r in REGIONS for slot, s in (("green", DeploymentSlot.GREEN), ("blue", DeploymentSlot.BLUE))
    ]
    assert [c[3] for c in factory.calls] == [True, True, False, False, False, False]


def test_synthesizes_a_three_region_blue_green_pipeline():
    _, pipeline, template = build()
    stages = list(template.find_resources("AWS::CodePipeline::Pipeline").values())[0]["Properties"]["Stages"]
    assert [s["Name"] for s in stages] == ["Source", "Build", "UpdatePipeline"] + [
        f"{r}-{suffix}" for r in REGIONS for suffix in ("green", "shift-to-green", "blue")
    ]
    shift = next(s for s in stages if s["Name"] == "eu-west-1-shift-to-green")
    assert shift["OnFailure"] == {"Result": "ROLLBACK"}
    assert shift["OnSuccess"]["Conditions"][0]["Rules"][0]["Configuration"]["AlarmName"] == "payments-eu-west-1-green-5xx"
    assert pipeline.coordinated_rollback is True
    assert [r.region for r in pipeline.regional_stages] == REGIONS


def test_writes_the_gitops_config_document():
    _, _, template = build()
    parameter = next(
        p for p in template.find_resources("AWS::SSM::Parameter").values()
        if p["Properties"]["Name"] == "/payments/production/global/secrets/gitops-config"
    )
    document = json.loads(parameter["Properties"]["Value"])
    assert document["strategy"] == "blue-green"
    assert document["deploymentRegions"] == REGIONS
