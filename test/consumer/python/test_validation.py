"""Consumer test of the Python package: mistakes a Python user makes fail synth with a clear message.

The messages start with the construct's path, and name the likely cause of the two mistakes only
Python and Java users can make: a dict with snake_case keys where a struct is expected (jsii passes
its keys through untranslated), and a stage factory that subclasses IRegionalStageFactory instead of
declaring it with @jsii.implements.
"""
import re

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_events as events

from cdk_cross_region_config import (
    CrossRegionSecretReplicator,
    IRegionalStageFactory,
    MultiRegionPipeline,
    PipelineSource,
    ReplicaKmsKey,
    SecretSelection,
)


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Secrets", env=cdk.Environment(region="us-east-1"))


def test_a_dict_with_snake_case_keys_fails_naming_the_likely_cause_and_the_generated_class():
    # jsii drops the snake_case key on the way: the library receives {"region": "eu-west-1"}.
    with pytest.raises(Exception, match=re.escape(
        'Secrets/Replicator: replicaKmsKeys[0] must set exactly one of keyArn and aliasName (from Python, a dict passed for '
        'ReplicaKmsKey loses snake_case keys such as "alias_name": pass the generated class instead, '
        'e.g. ReplicaKmsKey(region="eu-west-1", alias_name="alias/secrets")), but got {"region":"eu-west-1"}'
    )):
        CrossRegionSecretReplicator(
            new_stack(), "Replicator",
            secrets=SecretSelection.by_name_prefix("prod/"),
            replica_regions=["eu-west-1"],
            replica_kms_keys=[{"region": "eu-west-1", "alias_name": "alias/secrets"}],
        )


def test_the_generated_struct_class_keeps_every_field():
    stack = new_stack()
    replicator = CrossRegionSecretReplicator(
        stack, "Replicator",
        secrets=SecretSelection.by_name_prefix("prod/"),
        replica_regions=["eu-west-1"],
        replica_kms_keys=[ReplicaKmsKey(region="eu-west-1", alias_name="alias/secrets")],
    )
    assert replicator.replica_kms_keys[0].alias_name == "alias/secrets"


def test_a_schedule_every_minute_fails_with_the_construct_path():
    with pytest.raises(Exception, match=re.escape(
        'Secrets/Replicator: reconciliationSchedule must run at most once every 10 minutes'
    )):
        CrossRegionSecretReplicator(
            new_stack(), "Replicator",
            secrets=SecretSelection.by_name_prefix("prod/"),
            replica_regions=["eu-west-1"],
            reconciliation_schedule=events.Schedule.rate(cdk.Duration.minutes(1)),
        )


def pipeline(application):
    stack = cdk.Stack(cdk.App(), "Pipeline", env=cdk.Environment(account="111111111111", region="us-east-1"))
    return MultiRegionPipeline(
        stack, "Pipeline",
        source=PipelineSource.connection(
            connection_arn="arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
            owner="my-org", repository="my-service", branch="main"),
        application=application,
        replica_regions=["eu-west-1"],
    )


def test_a_stage_factory_that_subclasses_the_interface_is_refused_by_the_jsii_runtime():
    class SubclassedStages(IRegionalStageFactory):
        def create_stage(self, scope, id, context):
            return cdk.Stage(scope, id, env=cdk.Environment(account=context.account, region=context.region))

    # The error the README quotes; it comes from the jsii runtime, before the library is called.
    with pytest.raises(TypeError, match="Don't know how to convert object to JSON"):
        pipeline(SubclassedStages())


def test_a_decorated_stage_factory_without_create_stage_fails_naming_the_decorator():
    @jsii.implements(IRegionalStageFactory)
    class MisspelledStages:
        def create_stages(self, scope, id, context):
            raise AssertionError("never called")

    with pytest.raises(Exception, match=re.escape(
        "Pipeline/Pipeline: application must implement IRegionalStageFactory with a createStage method (in Python: a create_stage "
        "method, in a class declared with @jsii.implements(IRegionalStageFactory))"
    )):
        pipeline(MisspelledStages())
