"""Consumer test of the Python package: a ConfigParityCheck and a ConfigMapSyncer that rolls workloads.

It exercises the jsii mappings a Python user meets with them: constructs passed as props
(parameter_replicator, drift_detector), inherited declared per-region values, a static method
(ConfigParityCheck.region_switch_step_name), metric options with a region; and for the syncer a
list of struct classes holding lists of classes with static factories (ConfigMapSyncTarget with
WorkloadSelection.named / by_labels), an enum (WorkloadKind) and a struct of Durations
(ConfigMapRolloutOptions). Structs in lists are given as the generated classes: a dict there reaches
the library with its snake_case keys untranslated (see the last test).
"""
import json

import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk_cross_region_config import (
    ConfigDriftDetector,
    ConfigMapRolloutOptions,
    ConfigMapSyncer,
    ConfigMapSyncTarget,
    ConfigParityCheck,
    CrossRegionParameterReplicator,
    KubernetesCluster,
    ParameterOverride,
    ParameterSelection,
    WorkloadKind,
    WorkloadSelection,
)

REGIONS = ["eu-west-1", "ap-southeast-2"]


def new_stack(name):
    return cdk.Stack(cdk.App(), name, env=cdk.Environment(account="111122223333", region="us-east-1"))


def function_environment(template, marker_variable):
    """Environment of the one Lambda function whose environment has `marker_variable`."""
    found = [
        fn["Properties"]["Environment"]["Variables"]
        for fn in template.find_resources("AWS::Lambda::Function").values()
        if marker_variable in fn["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(found) == 1, f"expected one function with {marker_variable}, found {len(found)}"
    return found[0]


def parameter_replicator(stack):
    return CrossRegionParameterReplicator(
        stack,
        "Parameters",
        parameters=ParameterSelection.from_paths(["/payments/production"], excluded_paths=["/payments/production/local"]),
        replica_regions=REGIONS,
        overrides=[ParameterOverride.template("/payments/production/api-endpoint", "https://api.{region}.example.com")],
    )


def test_the_parity_check_takes_a_parameter_replicators_paths_regions_and_overrides():
    stack = new_stack("Parity")
    check = ConfigParityCheck(stack, "Parity", parameter_replicator=parameter_replicator(stack))
    assert check.checked_regions == REGIONS
    env = function_environment(Template.from_stack(stack), "PARITY_TARGETS")
    assert json.loads(env["PARAMETER_PATHS"]) == ["/payments/production"]
    assert json.loads(env["PARAMETER_OVERRIDES"]) == [
        {"name": "/payments/production/api-endpoint", "region": region, "value": f"https://api.{region}.example.com"}
        for region in REGIONS
    ]
    assert json.loads(env["IGNORE_RULES"]) == [{"kind": "parameter", "namePattern": "/payments/production/local/**"}]


def test_the_parity_check_inherits_what_a_linked_drift_detector_expects_for_the_regions_it_checks():
    stack = new_stack("ParityFromDetector")
    detector = ConfigDriftDetector(stack, "Drift", parameter_replicator=parameter_replicator(stack))
    assert [o.parameter_name for o in detector.compared_parameter_overrides] == ["/payments/production/api-endpoint"]
    ConfigParityCheck(stack, "Parity", drift_detector=detector, regions=["ap-southeast-2"])
    env = function_environment(Template.from_stack(stack), "PARITY_TARGETS")
    assert json.loads(env["PARITY_TARGETS"]) == [{"region": "ap-southeast-2"}]
    assert json.loads(env["PARAMETER_OVERRIDES"]) == [{
        "name": "/payments/production/api-endpoint", "region": "ap-southeast-2", "value": "https://api.ap-southeast-2.example.com",
    }]


def test_the_parity_checks_static_method_and_metric_options():
    stack = new_stack("ParityMetrics")
    check = ConfigParityCheck(stack, "Parity", regions=REGIONS, parameter_paths=["/payments/production"])
    assert ConfigParityCheck.region_switch_step_name("eu-west-1") == "ConfigParity-eu-west-1"
    metric = check.metric_config_parity(target_region="eu-west-1")
    assert metric.metric_name == "ConfigParity"
    assert metric.dimensions["TargetRegion"] == "eu-west-1"
    assert check.parity_alarm is not None


def rolling_syncer(stack, rollout):
    eu = KubernetesCluster.from_cluster_attributes(cluster_name="payments-eu", region="eu-west-1")
    ap = KubernetesCluster.from_cluster_attributes(cluster_name="payments-ap", region="ap-southeast-2")
    workloads = [
        WorkloadSelection.named(WorkloadKind.DEPLOYMENT, "web"),
        WorkloadSelection.by_labels(WorkloadKind.STATEFUL_SET, "app in (db)"),
    ]
    return ConfigMapSyncer(
        stack,
        "Syncer",
        parameter_path="/payments/production/config",
        config_map_name="payments-config",
        targets=[ConfigMapSyncTarget(cluster=eu, workloads=workloads), ConfigMapSyncTarget(cluster=ap, namespace="payments")],
        rollout=rollout,
    ), eu


def test_the_syncer_rolls_the_named_and_selected_workloads_in_waves():
    stack = new_stack("Rollout")
    syncer, eu = rolling_syncer(stack, ConfigMapRolloutOptions(
        region_by_region=True, pause=cdk.Duration.minutes(2), rollout_timeout=cdk.Duration.minutes(20), wave_wait=cdk.Duration.minutes(3),
    ))
    env = function_environment(Template.from_stack(stack), "SYNC_TARGETS")
    targets = json.loads(env["SYNC_TARGETS"])
    assert targets[0]["workloads"] == [{"kind": "Deployment", "name": "web"}, {"kind": "StatefulSet", "labelSelector": "app in (db)"}]
    assert "workloads" not in targets[1]
    assert json.loads(env["ROLLOUT"]) == {
        "waves": "region-by-region", "pauseSeconds": 120, "rolloutTimeoutSeconds": 1200, "pollSeconds": 240, "waveWaitSeconds": 180,
    }
    assert syncer.rolls_workloads
    assert syncer.rollout_failures_alarm is not None
    failed = syncer.metric_rollouts_failed(cluster=eu)
    assert failed.metric_name == "RolloutsFailed"
    assert failed.dimensions["Cluster"] == "eu-west-1/payments-eu"


def test_a_dict_for_the_rollout_prop_is_converted_but_a_dict_in_the_targets_list_loses_its_snake_case_keys():
    # A struct-typed keyword argument given as a dict is converted like the generated class; a dict
    # inside a list is passed through as it is, and the jsii kernel then drops every key that is not
    # a member of the struct ("config_map_name"; it knows configMapName) before the library sees
    # the target, which falls back to the syncer's ConfigMap name. No check in the library can see
    # the lost key: a build whose ConfigMapSyncer rejected every unknown key in a target passed this
    # test unchanged. The generated class, or a dict with the camelCase member names, keeps it.
    stack = new_stack("RolloutFromDicts")
    eu = KubernetesCluster.from_cluster_attributes(cluster_name="payments-eu", region="eu-west-1")
    ConfigMapSyncer(
        stack,
        "Syncer",
        parameter_path="/payments/production/config",
        config_map_name="payments-config",
        targets=[{"cluster": eu, "config_map_name": "other-config", "workloads": [WorkloadSelection.named(WorkloadKind.DEPLOYMENT, "web")]}],
        rollout={"region_by_region": True, "rollout_timeout": cdk.Duration.minutes(20)},
    )
    env = function_environment(Template.from_stack(stack), "SYNC_TARGETS")
    assert json.loads(env["ROLLOUT"])["waves"] == "region-by-region"
    assert json.loads(env["ROLLOUT"])["rolloutTimeoutSeconds"] == 1200
    target = json.loads(env["SYNC_TARGETS"])[0]
    assert target["workloads"] == [{"kind": "Deployment", "name": "web"}]
    assert target["configMapName"] == "payments-config"


def test_a_dict_in_the_targets_list_keeps_the_keys_it_spells_as_the_members():
    # The member names in camelCase, as the jsii kernel expects them: nothing is dropped.
    stack = new_stack("TargetFromCamelCaseDict")
    eu = KubernetesCluster.from_cluster_attributes(cluster_name="payments-eu", region="eu-west-1")
    ConfigMapSyncer(
        stack,
        "Syncer",
        parameter_path="/payments/production/config",
        config_map_name="payments-config",
        targets=[{"cluster": eu, "configMapName": "other-config", "createNamespace": True}],
    )
    target = json.loads(function_environment(Template.from_stack(stack), "SYNC_TARGETS")["SYNC_TARGETS"])[0]
    assert target["configMapName"] == "other-config"
    assert target["createNamespace"] is True
