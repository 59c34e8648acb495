"""Consumer test of the Python package: the one-stop construct and the dashboard (the seed's secrets stack)."""
import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from cdk_cross_region_config import (
    CrossRegionConfigDashboard,
    CrossRegionConfigManagement,
    DriftDetectionOptions,
    KubernetesCluster,
    ConfigMapSyncOptions,
    ConfigMapSyncTarget,
)


def seed_stack():
    app = cdk.App()
    return cdk.Stack(app, "SecretsStack", env=cdk.Environment(account="111122223333", region="ap-east-2"))


def test_synthesizes_the_seed_secrets_stack_with_documents_alarms_and_dashboard():
    stack = seed_stack()
    alerts = sns.Topic(stack, "Alerts", master_key=kms.Key(stack, "AlertsKey"))
    management = CrossRegionConfigManagement(
        stack,
        "Secrets",
        environment="production",
        project_name="genai-demo",
        secrets_manager_key=kms.Key(stack, "SecretsKey"),
        replication_regions=["ap-northeast-1", "ap-southeast-1"],
        alerting_topic=alerts,
        drift_detection=DriftDetectionOptions(parameter_paths=["/genai-demo/production/app"]),
        config_map_sync=ConfigMapSyncOptions(
            parameter_path="/genai-demo/production/app",
            targets=[ConfigMapSyncTarget(cluster=KubernetesCluster.from_cluster_attributes(cluster_name="genai-demo-tokyo", region="ap-northeast-1"))],
        ),
    )
    template = Template.from_stack(stack)
    names = {p["Properties"]["Name"] for p in template.find_resources("AWS::SSM::Parameter").values()}
    assert names == {
        "/genai-demo/production/global/secrets/cross-region-config",
        "/genai-demo/production/global/secrets/drift-detection-config",
        "/genai-demo/production/global/secrets/configmap-sync-config",
    }
    functions = {f["Properties"].get("FunctionName") for f in template.find_resources("AWS::Lambda::Function").values()}
    assert {"genai-demo-production-cross-region-sync", "genai-demo-production-drift-detection", "genai-demo-production-configmap-sync"} <= functions
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(management.alarms)
    assert management.dashboard is not None
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "genai-demo-production-cross-region-config"})


def test_a_dashboard_of_the_pieces_and_their_widgets():
    stack = seed_stack()
    management = CrossRegionConfigManagement(
        stack, "Secrets", environment="staging", project_name="genai-demo", replication_regions=["ap-northeast-1"], dashboard=False,
    )
    CrossRegionConfigDashboard(stack, "Dashboard", replicator=management.replicator, drift_detector=management.drift_detector)
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Dashboard", 1)
    assert len(management.replicator.dashboard_widgets()) > 3
